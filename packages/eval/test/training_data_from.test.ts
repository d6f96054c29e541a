import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, resolveTrainingData, trainingBatches } from '@whittle/graph';
import { type Tensor, tensor } from '@whittle/tensor';
import { encode as encodePng } from 'fast-png';
import { DataError, type ModelInputSpec, memoryFiles, openData, trainingDataFrom } from '../src/index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A model with int64 input_ids + attention_mask [batch, seq] and logits [batch, seq, vocab]. */
function lmModel(withMask = true): Model {
  const b = new GraphBuilder('lm');
  b.input('input_ids', 'int64', ['batch', 'seq']);
  if (withMask) b.input('attention_mask', 'int64', ['batch', 'seq']);
  const emb = b.initializer('emb', tensor(new Float32Array(10 * 4), [10, 4], 'float32', { backend: 'cpu' }));
  const h = b.node('Gather', [emb, 'input_ids'], { axis: 0 });
  b.output(b.node('MatMul', [h, b.initializer('head', tensor(new Float32Array(4 * 10), [4, 10], 'float32', { backend: 'cpu' }))], {}, { outputNames: ['logits'] }), 'float32', ['batch', 'seq', 10]);
  return b.model([{ domain: '', version: 17 }]);
}

describe('trainingDataFrom(source, model)', () => {
  it('JSONL token sequences of different lengths: int64 feeds by name, padded with zeros, next-token labels mask the padding', async () => {
    const model = lmModel();
    const files = memoryFiles({
      't.jsonl': text('{"input_ids":[1,2,3,4],"attention_mask":[1,1,1,1]}\n{"input_ids":[5,6],"attention_mask":[1,1]}\n{"input_ids":[7,8,9],"attention_mask":[1,1,1]}\n'),
    });
    const inputs: ModelInputSpec[] = [{ name: 'input_ids', elemType: 'int64', shape: ['batch', 'seq'] }, { name: 'attention_mask', elemType: 'int64', shape: ['batch', 'seq'] }];
    const { source } = await openData('t.jsonl', { files, inputs });
    const d = await trainingDataFrom(source, model);
    expect(d.x).toBeUndefined();
    expect(d.labels).toBeUndefined();
    expect(d.feeds!['input_ids']!.dtype).toBe('int64');
    expect(d.feeds!['input_ids']!.shape).toEqual([3, 4]);
    expect(Array.from(d.feeds!['input_ids']!.data as BigInt64Array, Number)).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 0]);
    expect(Array.from(d.feeds!['attention_mask']!.data as BigInt64Array, Number)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0]);
    const r = resolveTrainingData(d, model, { pass: 'test' });
    expect(r.task.loss).toBe('lm');
    const [batch] = [...trainingBatches(r, { batchSize: 3 })];
    expect(Array.from((batch!['targets'] as Tensor).dataSync() as BigInt64Array, Number)).toEqual([2, 3, 4, 6, 0, 0, 8, 9, 0]);
    expect(Array.from((batch!['weights'] as Tensor).dataSync() as Float32Array)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 0]);
  });

  it('sequences of different lengths without an attention_mask input are refused with a DataError', async () => {
    const files = memoryFiles({ 't.jsonl': text('[1,2,3]\n[4,5]\n') });
    const model = lmModel(false);
    const { source } = await openData('t.jsonl', { files, inputs: [{ name: 'input_ids', elemType: 'int64', shape: ['batch', 'seq'] }] });
    const e = await trainingDataFrom(source, model).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(/differ in length; padding them needs an 'attention_mask' model input/);
  });

  it('images of different sizes for an input of open height and width are refused naming the resize that fixes it', async () => {
    const png = (h: number, w: number): Uint8Array => encodePng({ width: w, height: h, data: new Uint8Array(h * w * 3).fill(90), channels: 3 });
    const files = memoryFiles({ 'imgs/a.png': png(8, 12), 'imgs/b.png': png(10, 6) });
    const b = new GraphBuilder('cnn');
    b.input('x', 'float32', ['N', 3, 'H', 'W']);
    b.output(b.node('ReduceMean', ['x'], { axes: { type: 'ints', value: [2, 3] } }, { outputNames: ['y'] }), 'float32', ['N', 3]);
    const model = b.model([{ domain: '', version: 17 }]);
    const { source } = await openData('imgs', { files, inputs: [{ name: 'x', elemType: 'float32', shape: ['N', 3, 'H', 'W'] }] });
    const e = await trainingDataFrom(source, model).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(/differ in size; the model's input size is not fixed.*preprocess: \{ resize: \[height, width\] \}/);
    expect((e as Error).message).not.toMatch(/attention_mask/);
  });

  it('a CSV with class names gives the shorthand for a one-float-input model, labels in sorted class order', async () => {
    const b = new GraphBuilder('mlp');
    b.input('input', 'float32', ['N', 2]);
    b.output(b.node('MatMul', ['input', b.initializer('w', tensor(new Float32Array(6), [2, 3], 'float32', { backend: 'cpu' }))], {}, { outputNames: ['logits'] }), 'float32', ['N', 3]);
    const model = b.model([{ domain: '', version: 17 }]);
    const files = memoryFiles({ 'i.csv': text('a,b,class\n1,2,setosa\n3,4,virginica\n5,6,versicolor\n') });
    const { source } = await openData('i.csv', { files, inputs: [{ name: 'input', elemType: 'float32', shape: ['N', 2] }] });
    const d = await trainingDataFrom(source, model);
    expect(d.sampleShape).toEqual([2]);
    expect(Array.from(d.x!)).toEqual([1, 2, 3, 4, 5, 6]);
    // setosa < versicolor < virginica
    expect(Array.from(d.labels!)).toEqual([0, 2, 1]);
  });
});
