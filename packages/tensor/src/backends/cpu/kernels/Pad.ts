import type { KernelConfig } from '../../../backend.js';
import type { PadMode } from '../../../kernel_names.js';
import { allocStorage, writeElement } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { floatOutput, floatStorage } from './float_io.js';

/** Source coordinate of output coordinate `o` along an axis of size `d` (-1: constant fill). */
export function padSource(o: number, begin: number, d: number, mode: PadMode): number {
  const i = o - begin;
  if (i >= 0 && i < d) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'edge':
      return i < 0 ? 0 : d - 1;
    case 'wrap':
      return ((i % d) + d) % d;
    case 'reflect': {
      if (d === 1) return 0;
      const p = 2 * (d - 1);
      const m = ((i % p) + p) % p;
      return m < d ? m : p - m;
    }
  }
}

/** Per-axis tables: storage offset contribution of each output coordinate (-1: fill). */
function padTables(inShape: readonly number[], strides: readonly number[], pads: readonly number[], mode: PadMode): { outShape: number[]; tables: Int32Array[] } {
  const r = inShape.length;
  const outShape = inShape.map((d, k) => d + pads[k]! + pads[k + r]!);
  const tables = outShape.map((od, k) => {
    const t = new Int32Array(od);
    for (let o = 0; o < od; o++) {
      const s = padSource(o, pads[k]!, inShape[k]!, mode);
      t[o] = s < 0 ? -1 : s * strides[k]!;
    }
    return t;
  });
  return { outShape, tables };
}

/**
 * Visit every output row (all axes but the last) in row-major order: `fn(base, dst)` with the
 * row's input storage base (-1 when the row is constant fill) and its first output index.
 * Callers map the last axis through `tables[rank-1]` in a tight loop.
 */
function forEachPaddedRow(outShape: number[], tables: Int32Array[], offset: number, fn: (base: number, dst: number) => void): void {
  const r = outShape.length;
  if (sizeOf(outShape) === 0) return;
  if (r === 0) {
    fn(offset, 0);
    return;
  }
  const idx = new Array<number>(r).fill(0);
  const n = outShape[r - 1]!;
  for (let dst = 0; ; dst += n) {
    let base = offset;
    for (let k = 0; k < r - 1; k++) {
      const t = tables[k]![idx[k]!]!;
      if (t < 0) {
        base = -1;
        break;
      }
      base += t;
    }
    fn(base, dst);
    let d = r - 2;
    for (; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** ONNX Pad for any rank and any non-packed dtype (reads any strides); negative pads crop. */
export const padKernel: KernelConfig<CpuBackend, 'Pad'> = {
  name: 'Pad',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const mode = attrs.mode;
    const { outShape, tables } = padTables(x!.shape, x!.strides, attrs.pads, mode);
    const src = cpuValues<Float32Array>(x!);
    const out = allocStorage(x!.dtype, sizeOf(outShape)) as Float32Array;
    const fillBox = allocStorage(x!.dtype, 1) as Float32Array;
    writeElement(x!.dtype, fillBox, 0, attrs.value);
    const fill = fillBox[0]!;
    const last = tables[tables.length - 1] ?? Int32Array.of(0);
    forEachPaddedRow(outShape, tables, x!.offset, (base, dst) => {
      if (base < 0) {
        out.fill(fill, dst, dst + last.length);
        return;
      }
      for (let j = 0; j < last.length; j++) {
        const t = last[j]!;
        out[dst + j] = t < 0 ? fill : src[base + t]!;
      }
    });
    return [backend.output(x!.dtype, outShape, out)];
  },
};

/**
 * The adjoint of Pad (its gradient for the reflect/edge/wrap modes): dy of the padded shape →
 * the input shape `attrs.inputShape`, summing every output element into its source element.
 */
export const padAdjointKernel: KernelConfig<CpuBackend, 'PadAdjoint'> = {
  name: 'PadAdjoint',
  backend: 'cpu',
  run([dy], attrs, backend) {
    const inShape = attrs.inputShape;
    const strides = inShape.map((_, k) => sizeOf(inShape.slice(k + 1)));
    const { outShape, tables } = padTables(inShape, strides, attrs.pads, attrs.mode);
    const g = floatStorage(dy!);
    const out = new Float32Array(sizeOf(inShape));
    const last = tables[tables.length - 1] ?? Int32Array.of(0);
    forEachPaddedRow(outShape, tables, 0, (base, dst) => {
      if (base < 0) return;
      for (let j = 0; j < last.length; j++) {
        const t = last[j]!;
        if (t >= 0) out[base + t] = out[base + t]! + g[dst + j]!;
      }
    });
    return [floatOutput(backend, dy!.dtype, inShape, out)];
  },
};
