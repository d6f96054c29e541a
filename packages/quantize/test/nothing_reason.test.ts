/**
 * The reason a quantization pass gives when it finds nothing to quantize: a float32 weight held in
 * a Constant node asks for normalize (which makes it an initializer the pass quantizes); an
 * integer weight in a Constant node (a model quantized elsewhere) does not, normalize would not help.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { quantizeWeightsPass } from '../src/rtn.js';

function withConstantWeight(dtype: 'int8' | 'float32'): Model {
  const b = new GraphBuilder('main');
  const data = dtype === 'int8' ? Int8Array.from({ length: 64 * 8 }, (_, i) => (i % 7) - 3) : Float32Array.from({ length: 64 * 8 }, (_, i) => ((i % 7) - 3) / 10);
  const w = b.node('Constant', [], { value: tensor(data, [64, 8], dtype, { backend: 'cpu' }) }, { name: 'W' });
  if (dtype === 'int8') {
    const x = b.input('x', 'uint8', [1, 64]);
    b.output(b.node('MatMulInteger', [x, w], {}, { name: 'mm' }), 'int32', [1, 8]);
  } else {
    const x = b.input('x', 'float32', [1, 64]);
    b.output(b.node('MatMul', [x, w], {}, { name: 'mm' }), 'float32', [1, 8]);
  }
  return b.model([{ domain: '', version: 17 }]);
}

describe('nothing to quantize', () => {
  it('an int8 weight in a Constant node: no advice to normalize', async () => {
    const r = await runPass(quantizeWeightsPass, withConstantWeight('int8'), {});
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/^0 MatMul\/Gemm/);
    expect(r.report.summary).not.toMatch(/normalize/);
  });
  it('a float32 weight in a Constant node: run normalize first', async () => {
    const r = await runPass(quantizeWeightsPass, withConstantWeight('float32'), {});
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toContain('1 Constant nodes hold weights; run normalize first');
  });
});
