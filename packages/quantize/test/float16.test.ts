import { describe, expect, it } from 'vitest';
import { GraphBuilder, runPass, summarize, tensorInfo } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { convertFloat16Pass } from '../src/float16.js';
import { mixedFeeds, mixedModel, ortRun, randTensor, randomArray, relError, modelBytes } from './helpers.js';
import { encoderInput, transformerEncoder } from './models.js';

describe('convert-float16', () => {
  it('transformer encoder: keep-io-types runs in onnxruntime with float32 io', async () => {
    const model = transformerEncoder();
    const feeds = { x: encoderInput(4, 1) };
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    const { model: h, report } = await runPass(convertFloat16Pass, model, {});
    const out = (await ortRun(h, feeds))[h.graph.outputs[0]!.name]!;
    expect(out).toBeInstanceOf(Float32Array);
    expect(relError(ref, out)).toBeLessThan(0.01);
    expect(report.stats!.ratio).toBeCloseTo(0.5, 2);
    expect(modelBytes(h)).toBeLessThan(0.55 * modelBytes(model));
  });
  it('blocked ops run in float32 between Casts', async () => {
    const model = transformerEncoder();
    const feeds = { x: encoderInput(4, 1) };
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    const { model: h } = await runPass(convertFloat16Pass, model, { blockOps: ['Softmax', 'LayerNormalization'] });
    const ln = h.graph.nodes.find((n) => n.opType === 'LayerNormalization')!;
    expect(h.graph.initializers.get(ln.inputs[1]!)!.dtype).toBe('float32');
    const out = (await ortRun(h, feeds))[h.graph.outputs[0]!.name]!;
    expect(relError(ref, out)).toBeLessThan(0.01);
  });
  it('mixed model (Gather with int64 ids), float16 io', async () => {
    const model = mixedModel();
    const { model: h } = await runPass(convertFloat16Pass, model, { keepIoTypes: false, blockOps: ['Tanh'] });
    expect(h.graph.inputs[0]!.type!.elemType).toBe('float16');
    const { model: h2 } = await runPass(convertFloat16Pass, model, { blockOps: ['Gather'] });
    const feeds = mixedFeeds(8);
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    expect(relError(ref, (await ortRun(h2, feeds))[h2.graph.outputs[0]!.name]!)).toBeLessThan(0.01);
  });
});

describe('convert-float16: declared shapes', () => {
  it('keeps the value_info shapes inference cannot derive, with the converted element types, so FLOPs stay known', async () => {
    // x [N, 16] reshaped by a shape computed at run time: only value_info tells the MatMul's input shape
    const rng = new Rng(7);
    const b = new GraphBuilder('declared');
    const x = b.input('x', 'float32', ['N', 16]);
    const shape = b.node('Concat', [b.node('Shape', [x], { start: 0, end: 1 }), b.initializer('four', tensor(new BigInt64Array([4n, 4n]), [2], 'int64', { backend: 'cpu' }))], { axis: 0 });
    const r = b.node('Reshape', [x, shape], {}, { name: 'reshape' });
    const y = b.node('MatMul', [r, b.initializer('w', randTensor([4, 8], rng, 0.5))], {}, { name: 'mm' });
    b.output(y, 'float32', ['N', 4, 8]);
    const model = b.model([{ domain: '', version: 17 }]);
    model.graph.valueInfo.set(r, tensorInfo(r, 'float32', ['N', 4, 4]));
    const before = summarize(model, { dims: { N: 3 } });
    expect(before.macs).toBe(3 * 4 * 4 * 8);
    const { model: h } = await runPass(convertFloat16Pass, model, {});
    expect(h.graph.valueInfo.get(r)?.type).toEqual({ kind: 'tensor', elemType: 'float16', shape: ['N', 4, 4] });
    expect(summarize(h, { dims: { N: 3 } }).macs).toBe(before.macs);
    // the declarations are consistent: onnxruntime loads and runs the model
    const feeds = { x: { data: randomArray(3 * 16, rng), dims: [3, 16] } };
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    expect(relError(ref, (await ortRun(h, feeds))[h.graph.outputs[0]!.name]!)).toBeLessThan(0.01);
  });
});
