import type { KernelConfig } from '../../../backend.js';
import type { QuantScaleAttrs } from '../../../kernel_names.js';
import { intRange } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import type { CpuBackend } from '../backend.js';
import { axisDims, encodeNumbers, numericStorage, roundHalfEven } from './numeric.js';

/** Index into scale/zero point of element `idx` (mode tensor | axis | block). */
export function scaleIndexer(shape: readonly number[], attrs: QuantScaleAttrs): (idx: number) => number {
  const mode = attrs.mode;
  if (mode === 'tensor') return () => 0;
  const { d, inner } = axisDims(shape, attrs.axis);
  if (mode === 'axis') return (idx) => Math.floor(idx / inner) % d;
  const bs = attrs.blockSize;
  const nb = Math.ceil(d / bs);
  return (idx) => {
    const i = idx % inner;
    const j = Math.floor(idx / inner) % d;
    const o = Math.floor(idx / (inner * d));
    return (o * nb + Math.floor(j / bs)) * inner + i;
  };
}

/** QuantizeLinear: saturate(roundHalfEven(x / scale) + zeroPoint) in attrs.dtype. */
export const quantizeLinearKernel: KernelConfig<CpuBackend, 'QuantizeLinear'> = {
  name: 'QuantizeLinear',
  backend: 'cpu',
  run([x, scale, zp], attrs, backend) {
    const dtype = attrs.dtype;
    const [lo, hi] = intRange(dtype);
    const xv = numericStorage(x!);
    const sv = numericStorage(scale!);
    const zv = zp ? numericStorage(zp) : null;
    const at = scaleIndexer(x!.shape, attrs);
    const n = sizeOf(x!.shape);
    const out = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const s = at(k);
      const q = roundHalfEven(Math.fround(xv[k]! / sv[s]!)) + (zv ? zv[s]! : 0);
      out[k] = Number.isNaN(q) ? 0 : Math.min(hi, Math.max(lo, q));
    }
    return [backend.output(dtype, x!.shape, encodeNumbers(dtype, out))];
  },
};

/** DequantizeLinear: (q - zeroPoint) * scale, in the scale's dtype. */
export const dequantizeLinearKernel: KernelConfig<CpuBackend, 'DequantizeLinear'> = {
  name: 'DequantizeLinear',
  backend: 'cpu',
  run([q, scale, zp], attrs, backend) {
    const qv = numericStorage(q!);
    const sv = numericStorage(scale!);
    const zv = zp ? numericStorage(zp) : null;
    const at = scaleIndexer(q!.shape, attrs);
    const n = sizeOf(q!.shape);
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const s = at(k);
      out[k] = Math.fround((qv[k]! - (zv ? zv[s]! : 0)) * sv[s]!);
    }
    return [backend.output(scale!.dtype, q!.shape, encodeNumbers(scale!.dtype, out))];
  },
};

/** ONNX DynamicQuantizeLinear parameters (uint8) from the data range (always including 0). */
export function dynamicParams(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = Math.fround((hi - lo) / 255);
  if (scale === 0) return { scale: 0, zeroPoint: 0 };
  const zp = roundHalfEven(Math.min(255, Math.max(0, Math.fround(0 - Math.fround(lo / scale)))));
  return { scale, zeroPoint: zp };
}

/** DynamicQuantizeLinear → y (uint8), scale (float32 scalar), zero point (uint8 scalar). */
export const dynamicQuantizeLinearKernel: KernelConfig<CpuBackend, 'DynamicQuantizeLinear'> = {
  name: 'DynamicQuantizeLinear',
  backend: 'cpu',
  run([x], _attrs, backend) {
    const xv = numericStorage(x!);
    const n = sizeOf(x!.shape);
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < n; k++) {
      min = Math.min(min, xv[k]!);
      max = Math.max(max, xv[k]!);
    }
    const { scale, zeroPoint } = dynamicParams(min, max);
    const y = new Uint8Array(n);
    if (scale !== 0) for (let k = 0; k < n; k++) y[k] = Math.min(255, Math.max(0, roundHalfEven(Math.fround(xv[k]! / scale)) + zeroPoint));
    return [
      backend.output('uint8', x!.shape, y),
      backend.output('float32', [], Float32Array.of(scale)),
      backend.output('uint8', [], Uint8Array.of(zeroPoint)),
    ];
  },
};

export const quantizeCpuKernels: KernelConfig<CpuBackend>[] = [quantizeLinearKernel, dequantizeLinearKernel, dynamicQuantizeLinearKernel];
