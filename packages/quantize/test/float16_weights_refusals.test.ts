/**
 * Passes that only take float32 weights, given a model whose weights are float16 already (a
 * float16 export), say so without doing work: static int8 before it calibrates, float16
 * conversion instead of reporting success for Casts alone.
 */
import { describe, expect, it } from 'vitest';
import { type Feeds, GraphBuilder, cloneModel, createNode, runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import '../src/index.js';
import { convertFloat16Pass } from '../src/float16.js';
import { quantizeStaticPass } from '../src/static.js';
import { mixedModel } from './helpers.js';
import { halfModel } from './float16_helpers.js';

describe('float16 weights given to float32-only passes', () => {
  it('quantize-static: nothing to quantize, said before a single calibration batch is read', async () => {
    const half = await halfModel(mixedModel());
    let read = 0;
    // a calibration source that counts what the pass takes from it
    const calibration: AsyncIterable<Feeds> = {
      [Symbol.asyncIterator]: () => ({ next: async () => (read++, { done: false, value: { x: tensor(new Float32Array(100), [1, 100]) } }) }),
    };
    const r = await runPass(quantizeStaticPass, half, {}, { calibration });
    expect(read).toBe(0);
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/^0 of \d+ Conv\/MatMul\/Gemm nodes have a weight to quantize/);
    expect(r.report.summary).toMatch(/quantize-weights and quantize-hqq take float16 weights/);
    expect(r.report.summary).not.toMatch(/inside subgraphs/);
  });

  it('convert-float16: a float16 model whose only float32 parts are Casts is unchanged, and says why', async () => {
    const half = await halfModel(mixedModel());
    // a float16 export computing one op in float32: Cast up, Relu, Cast down
    const m = cloneModel(half);
    const g = m.graph;
    const mm = g.nodes.find((n) => n.opType === 'MatMul')!;
    const y = mm.outputs[0]!;
    mm.outputs[0] = 'mm_half';
    g.nodes.splice(g.nodes.indexOf(mm) + 1, 0, createNode('Cast', ['mm_half'], ['mm_f32'], { to: { type: 'int', value: 1 } }), createNode('Relu', ['mm_f32'], ['mm_relu']), createNode('Cast', ['mm_relu'], [y], { to: { type: 'int', value: 10 } }));
    const r = await runPass(convertFloat16Pass, m, {});
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/^0 float32 initializers or Constant nodes to convert: the weights are float16 already \(only 1 Cast node\(s\) to float32 would change/);
    expect(r.model.graph.nodes.filter((n) => n.opType === 'Cast').map((n) => n.attributes.get('to'))).toEqual(m.graph.nodes.filter((n) => n.opType === 'Cast').map((n) => n.attributes.get('to')));
  });

  it('convert-float16 on an int8 (QDQ weights) model: converted, with a warning that the size barely changes', async () => {
    const b = new GraphBuilder('mm');
    const x = b.input('x', 'float32', ['N', 64]);
    const mm = b.node('MatMul', [x, b.initializer('w', tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)), [64, 64]))], {}, { name: 'mm' });
    const y = b.node('Add', [mm, b.initializer('bias', tensor(Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)), [64]))], {}, { name: 'add' });
    b.output(y, 'float32', ['N', 64]);
    const int8 = (await runPass('quantize-weights', b.model([{ domain: '', version: 17 }]), { bits: 8, granularity: 'per-channel' })).model;
    const r = await runPass(convertFloat16Pass, int8, {});
    expect(r.report.changed).toBe(true);
    expect(r.report.warnings?.join('\n')).toMatch(/the initializers shrink only \d+\.\d+ % .*most of the weights are not float32/);
    // a float32 model gets no such warning
    const plain = await runPass(convertFloat16Pass, b.model([{ domain: '', version: 17 }]), {});
    expect(plain.report.warnings?.join('\n') ?? '').not.toMatch(/shrink only/);
  });
});
