/**
 * Classifiers exported with their Softmax (skl2onnx, paddle2onnx) output probabilities: the
 * cross-entropy is −log p[label] (not a second softmax over p), its gradient trains the weights
 * before the Softmax, and a teacher's probabilities distil as logits log p.
 */
import { describe, expect, it } from 'vitest';
import { Rng, type Tensor, softmax, tensor } from '@whittle/tensor';
import { GraphBuilder, GraphModule, type Model, createPassContext, fineTuneOptions, fineTunePass, isSoftmaxOutput, resolveTrainingData, runModel, taskLoss, trainingBatches } from '../src/index.js';

const f32 = (v: ArrayLike<number>, shape: number[]): Tensor => tensor(Float32Array.from(v), shape, 'float32', { backend: 'cpu' });

const out = (m: Model): string => m.graph.outputs[0]!.name;

function classifier(opset: number, axis: number | undefined, withIdentity = false): Model {
  const rng = new Rng(3);
  const b = new GraphBuilder('softmax_classifier');
  b.input('x', 'float32', ['n', 4]);
  const w = b.initializer('w', f32(Array.from({ length: 12 }, () => rng.normal()), [4, 3]));
  const bias = b.initializer('b', f32([0.1, -0.2, 0.3], [3]));
  const z = b.node('Add', [b.node('MatMul', ['x', w]), bias]);
  let p = b.node('Softmax', [z], axis === undefined ? {} : { axis });
  if (withIdentity) p = b.node('Identity', [p]);
  b.output(p, 'float32', ['n', 3]);
  return b.model([{ domain: '', version: opset }]);
}

describe('Softmax outputs in training losses', () => {
  it('is recognized through Identity, on the class axis only, with opset 11 and 13 defaults', () => {
    for (const [m, want] of [[classifier(13, undefined), true], [classifier(11, undefined), true], [classifier(13, 1, true), true], [classifier(13, 0), false]] as const) {
      expect(isSoftmaxOutput(m, out(m), -1)).toBe(want);
    }
  });

  it('cross-entropy is −log p[label] of the probabilities, and fine-tuning lowers it', async () => {
    const model = classifier(13, undefined);
    const rng = new Rng(5);
    const n = 48;
    const x = Float32Array.from({ length: n * 4 }, () => rng.normal());
    const labels = Int32Array.from({ length: n }, (_, i) => (x[i * 4]! > 0 ? 0 : x[i * 4 + 1]! > 0 ? 1 : 2));
    const training = { feeds: { x: { data: x, shape: [n, 4], dtype: 'float32' as const } }, targets: { data: labels, shape: [n], dtype: 'int32' as const } };
    const data = resolveTrainingData(training, model, { pass: 'test' });
    expect(data.task.probabilities).toBe(true);
    const p = (await runModel(model, { x: f32(x, [n, 4]) })).get(out(model))!.dataSync() as Float32Array;
    let want = 0;
    for (let i = 0; i < n; i++) want -= Math.log(p[i * 3 + labels[i]!]!) / n;
    const module = await GraphModule.create(model, { backend: 'cpu' });
    const batch = [...trainingBatches(data, { batchSize: n, backend: 'cpu' })][0]!;
    const loss = taskLoss(data.task, await module.forward(batch.inputs as Record<string, Tensor>), batch);
    expect(await loss.item()).toBeCloseTo(want, 5);

    const ctx = createPassContext({ seed: 0, backend: 'cpu', training }, fineTuneOptions.parse({ epochs: 20, lr: 0.05, batchSize: 16 }, 'fine-tune'));
    const r = await fineTunePass.run(model, ctx);
    expect(r.report.summary).toMatch(/Softmax probabilities read as log p/);
    const p2 = (await runModel(r.model, { x: f32(x, [n, 4]) })).get(out(model))!.dataSync() as Float32Array;
    let after = 0;
    for (let i = 0; i < n; i++) after -= Math.log(p2[i * 3 + labels[i]!]!) / n;
    expect(after).toBeLessThan(0.6 * want);
  });

  it('a teacher\'s probabilities distil as their logits: KL to softmax(z) equals KL to p', async () => {
    const model = classifier(13, undefined);
    const rng = new Rng(8);
    const n = 6;
    const x = f32(Array.from({ length: n * 4 }, () => rng.normal()), [n, 4]);
    const data = resolveTrainingData({ feeds: { x: { data: x.dataSync() as Float32Array, shape: [n, 4], dtype: 'float32' } } }, model, { pass: 'distill', defaultLoss: 'kl', losses: ['kl'] });
    const module = await GraphModule.create(model, { backend: 'cpu' });
    const outs = await module.forward({ x });
    const z = f32(Array.from({ length: n * 3 }, () => 2 * rng.normal()), [n, 3]);
    const fromLogits = await taskLoss({ ...data.task, loss: 'kl' }, outs, {} as never, z, 2).item();
    const fromProbabilities = await taskLoss({ ...data.task, loss: 'kl' }, outs, {} as never, softmax(z, -1), 2).item();
    expect(fromProbabilities).toBeCloseTo(fromLogits, 4);
  });
});
