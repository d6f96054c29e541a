import type { KernelConfig } from '../../../backend.js';
import type { QuantScaleAttrs } from '../../../kernel_names.js';
import { type DType, intRange } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { axisDims } from './axis.js';
import { gpuReducers, runReduce } from './reduce.js';

/**
 * WGSL division is not correctly rounded (SwiftShader is off by an ulp), which flips ties such as
 * 1.5 / (3 / 255) = 127.5. `divF32` returns the correctly rounded f32 quotient, as the cpu and
 * onnxruntime compute it: the candidate within 2 ulps of x / s with the smallest exact residual
 * |x - c s| (Dekker's exact product).
 */
const DIV_F32 = `
fn splitF(a: f32) -> vec2<f32> { let c = 4097.0 * a; let h = c - (c - a); return vec2<f32>(h, a - h); }
fn residual(x: f32, c: f32, s: f32) -> f32 {
  let p = c * s;
  let a = splitF(c);
  let b = splitF(s);
  let e = ((a.x * b.x - p) + a.x * b.y + a.y * b.x) + a.y * b.y;
  return abs((x - p) - e);
}
fn divF32(x: f32, s: f32) -> f32 {
  let d0 = x / s;
  if (!(abs(d0) < 1e30) || d0 == 0.0 || abs(x) > 1e30 || abs(s) > 1e30) { return d0; }
  var best = d0;
  var br = residual(x, d0, s);
  for (var k = -2; k <= 2; k++) {
    if (k == 0) { continue; }
    let c = bitcast<f32>(bitcast<i32>(d0) + k);
    let r = residual(x, c, s);
    if (r < br) { best = c; br = r; }
  }
  return best;
}`;

/** Uniforms u[1..4] = d, inner, blockSize, blocks; WGSL computing `s` (scale index) from idx. */
function scaleIndex(shape: readonly number[], attrs: QuantScaleAttrs, u: Uniforms): string {
  const mode = attrs.mode;
  if (mode === 'tensor') {
    u.add(1, 1, 1, 1);
    return '  let s = 0;';
  }
  const { d, inner } = axisDims(shape, attrs.axis);
  const bs = mode === 'block' ? attrs.blockSize : 1;
  u.add(d, inner, bs, Math.ceil(d / bs));
  if (mode === 'axis') return '  let s = (idx / u[2]) % u[1];';
  return `  let i = idx % u[2];
  let j = (idx / u[2]) % u[1];
  let o = idx / (u[2] * u[1]);
  let s = (o * u[4] + j / u[3]) * u[2] + i;`;
}

function quantizeProgram(x: GpuTensor, scale: GpuTensor, zp: GpuTensor | undefined, dtype: DType, attrs: QuantScaleAttrs, backend: WebGpuBackend): GpuTensor {
  const size = sizeOf(x.shape);
  const u = new Uniforms();
  u.add(size);
  const sIdx = scaleIndex(x.shape, attrs, u);
  const [lo, hi] = intRange(dtype);
  const inputs = zp ? [x, scale, zp] : [x, scale];
  return backend.runProgram({
    key: `QuantizeLinear:${x.dtype}:${scale.dtype}:${dtype}:${attrs.mode}:${!!zp}`,
    source: () => `${DIV_F32}
${declareBindings([{ name: 'X', dtype: x.dtype }, { name: 'S', dtype: scale.dtype }, ...(zp ? [{ name: 'Z', dtype }] : [])], [{ name: 'Y', dtype }])}
${mainLinear('u[0]', `${sIdx}
  let q = round(divF32(X[idx], S[s])) + ${zp ? 'f32(Z[s])' : '0.0'};
  Y[idx] = i32(clamp(select(q, 0.0, q != q), ${lo}.0, ${hi}.0));`)}`,
    inputs,
    outputs: [{ dtype, shape: x.shape }],
    uniforms: u.values,
    dispatch: dispatch1D(size),
  })[0]!;
}

/** QuantizeLinear: per-tensor, per-axis or block-wise scale (and zero point). */
export const quantizeLinearKernel: KernelConfig<WebGpuBackend, 'QuantizeLinear'> = {
  name: 'QuantizeLinear',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const [x, scale, zp] = inputs as GpuTensor[];
    return [quantizeProgram(x!, scale!, zp, attrs.dtype, attrs, backend)];
  },
};

/** DequantizeLinear: (q - zero point) * scale in the scale's dtype. */
export const dequantizeLinearKernel: KernelConfig<WebGpuBackend, 'DequantizeLinear'> = {
  name: 'DequantizeLinear',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const [q, scale, zp] = inputs as GpuTensor[];
    const size = sizeOf(q!.shape);
    const u = new Uniforms();
    u.add(size);
    const sIdx = scaleIndex(q!.shape, attrs, u);
    const t = wgslType(q!.dtype);
    const qv = t === 'f32' ? 'Q[idx]' : 'f32(Q[idx])';
    const zv = zp ? (t === 'f32' ? 'Z[s]' : 'f32(Z[s])') : '0.0';
    const val = `(${qv} - ${zv}) * S[s]`;
    return backend.runProgram({
      key: `DequantizeLinear:${q!.dtype}:${scale!.dtype}:${attrs.mode}:${!!zp}`,
      source: () => `${declareBindings([{ name: 'Q', dtype: q!.dtype }, { name: 'S', dtype: scale!.dtype }, ...(zp ? [{ name: 'Z', dtype: zp.dtype }] : [])], [{ name: 'Y', dtype: scale!.dtype }])}
${mainLinear('u[0]', `${sIdx}
  Y[idx] = ${scale!.dtype === 'float16' ? roundF16(val) : val};`)}`,
      inputs: zp ? [q!, scale!, zp] : [q!, scale!],
      outputs: [{ dtype: scale!.dtype, shape: q!.shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/** DynamicQuantizeLinear: tree min/max, a one-thread parameter program, then QuantizeLinear. */
export const dynamicQuantizeLinearKernel: KernelConfig<WebGpuBackend, 'DynamicQuantizeLinear'> = {
  name: 'DynamicQuantizeLinear',
  backend: 'webgpu',
  run(inputs, _attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const axes = x.shape.map((_, i) => i);
    const mn = runReduce('ReduceMin', gpuReducers.ReduceMin, x, axes, false, backend);
    const mx = runReduce('ReduceMax', gpuReducers.ReduceMax, x, axes, false, backend);
    const u = new Uniforms();
    u.add(1);
    const [scale, zp] = backend.runProgram({
      key: `DynamicQuantizeParams:${x.dtype}`,
      source: () => `${DIV_F32}
${declareBindings([{ name: 'MN', dtype: 'float32' }, { name: 'MX', dtype: 'float32' }], [{ name: 'S', dtype: 'float32' }, { name: 'Z', dtype: 'uint8' }])}
${mainLinear('u[0]', `  let lo = min(0.0, select(MN[0], 0.0, u[1] == 0));
  let hi = max(0.0, select(MX[0], 0.0, u[1] == 0));
  let s = divF32(hi - lo, 255.0);
  S[0] = s;
  if (s == 0.0) { Z[0] = 0; return; }
  Z[0] = i32(round(clamp(0.0 - divF32(lo, s), 0.0, 255.0)));`)}`,
      inputs: [mn, mx],
      outputs: [{ dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }],
      uniforms: [...u.values, sizeOf(x.shape)],
      dispatch: [1, 1, 1],
    }) as [GpuTensor, GpuTensor];
    backend.release(mn.handle);
    backend.release(mx.handle);
    // scale 0 (all zeros) would divide by zero: quantize against scale 1 with zero point 0 instead
    const safe = backend.runProgram({
      key: 'DynamicQuantizeSafeScale',
      source: () => `${declareBindings([{ name: 'S', dtype: 'float32' }], [{ name: 'Y', dtype: 'float32' }])}
${mainLinear('u[0]', '  Y[0] = select(S[0], 1.0, S[0] == 0.0);')}`,
      inputs: [scale],
      outputs: [{ dtype: 'float32', shape: [] }],
      uniforms: [1],
      dispatch: [1, 1, 1],
    })[0]!;
    const y = quantizeProgram(x, safe, zp, 'uint8', { mode: 'tensor', axis: 0, blockSize: 0 }, backend);
    backend.release(safe.handle);
    return [y, scale, zp];
  },
};

export const quantizeWebGpuKernels: KernelConfig<WebGpuBackend>[] = [quantizeLinearKernel, dequantizeLinearKernel, dynamicQuantizeLinearKernel];
