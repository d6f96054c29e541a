import { describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
import { convertFloat16Pass } from '../src/float16.js';
import { mixedFeeds, mixedModel, ortRun, relError, modelBytes } from './helpers.js';
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
