import { describe, expect, it } from 'vitest';
import { TARGETS, applyTarget } from '../src/commands/target.js';

const WEIGHTS = new Set(['bits', 'granularity', 'blockSize', 'format', 'accuracyLevel', 'ops']);
const GPTQ = new Set(['bits', 'granularity', 'blockSize', 'format', 'ops']);

describe('--target mapping (applyTarget)', () => {
  it('quantize weights without --format: MatMulNBits on every onnxruntime target, said in a note; accuracy_level 4 on ort-cpu only', () => {
    for (const t of TARGETS) {
      const a = applyTarget(t, 'quantize-weights', {}, WEIGHTS);
      expect(a.options.format, t).toBe('matmulnbits');
      expect(a.notes.join('\n')).toMatch(/format = "matmulnbits": the default 4-bit format for MatMul\/Gemm weights/);
      expect(a.options.accuracyLevel, t).toBe(t === 'ort-cpu' ? 4 : undefined);
      expect(a.warnings, t).toEqual([]);
    }
    const g = applyTarget('ort-wasm', 'gptq', { bits: 3 }, GPTQ);
    expect(g.options).toMatchObject({ bits: 3, format: 'matmulnbits' });
  });

  it('the user\'s --format stays; QDQ int4 warns (unfused in a Gemm)', () => {
    const a = applyTarget('ort-cpu', 'quantize-weights', { format: 'qdq', bits: 4 }, WEIGHTS);
    expect(a.options.format).toBe('qdq');
    expect(a.options.accuracyLevel).toBeUndefined();
    expect(a.notes).toEqual([]);
    expect(a.warnings.join('\n')).toMatch(/4-bit DequantizeLinear is not fused into Gemm/);
  });

  it('no MatMulNBits where it would not be fused: per-channel grids, 8-bit without int8 activations', () => {
    expect(applyTarget('ort-cpu', 'quantize-weights', { granularity: 'per-channel' }, WEIGHTS).options.format).toBeUndefined();
    // 8-bit: only ort-cpu with accuracy_level 4 runs MatMulNBits fast
    const cpu8 = applyTarget('ort-cpu', 'quantize-weights', { bits: 8 }, WEIGHTS);
    expect(cpu8.options).toMatchObject({ format: 'matmulnbits', accuracyLevel: 4 });
    expect(cpu8.warnings).toEqual([]);
    expect(applyTarget('ort-wasm', 'quantize-weights', { bits: 8 }, WEIGHTS).options.format).toBeUndefined();
    expect(applyTarget('ort-cpu', 'gptq', { bits: 8 }, GPTQ).options.format).toBeUndefined();
    const acc0 = applyTarget('ort-cpu', 'quantize-weights', { bits: 8, format: 'matmulnbits', accuracyLevel: 0 }, WEIGHTS);
    expect(acc0.warnings.join('\n')).toMatch(/8-bit MatMulNBits without accuracy_level 4 .* 0\.14x of float32/);
  });

  it('only options of the pass schema are set', () => {
    const a = applyTarget('ort-cpu', 'quantize-weights', {}, new Set(['bits']));
    expect(a.options).toEqual({});
    expect(a.notes).toEqual([]);
  });
});
