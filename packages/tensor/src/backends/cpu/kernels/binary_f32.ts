import type { TensorInfo } from '../../../backend.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import { cpuValues } from '../backend.js';

/** The float32 binary ops with dedicated loops. */
export type ArithOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Max' | 'Min';

/**
 * Broadcast dims merged where both operands step through them as one: size-1 dims dropped, and
 * a dim folded into the one before it when both strides of the outer one equal stride × size of
 * the inner one. `[M, N] + [N]` becomes rows of N with b's row stride 0; NCHW + [C,1,1] becomes
 * [N·C, H·W] with b's inner stride 0; same-shape contiguous becomes one flat run.
 */
export function collapseBroadcast(
  shape: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
): { shape: number[]; sa: number[]; sb: number[] } {
  const out: { shape: number[]; sa: number[]; sb: number[] } = { shape: [], sa: [], sb: [] };
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = out.shape.length - 1;
    if (k >= 0 && out.sa[k] === sa[d]! * n && out.sb[k] === sb[d]! * n) {
      out.shape[k]! *= n;
      out.sa[k] = sa[d]!;
      out.sb[k] = sb[d]!;
    } else {
      out.shape.push(n);
      out.sa.push(sa[d]!);
      out.sb.push(sb[d]!);
    }
  }
  if (out.shape.length === 0) return { shape: [1], sa: [0], sb: [0] };
  return out;
}

/**
 * One row of `n` outputs from `o`: out[o + j] = a[pa + j·ia] op b[pb + j·ib]. Each op/stride
 * case is its own literal loop (a function passed as a value is not reliably inlined into a hot
 * loop by V8); the expressions are those of the generic kernel, and the float32 store rounds the
 * float64 result the same way.
 */
function row(op: ArithOp, out: Float32Array, o: number, n: number, a: Float32Array, pa: number, ia: number, b: Float32Array, pb: number, ib: number): void {
  const end = o + n;
  if (ia === 1 && ib === 1) {
    const e = pa - o;
    const d = pb - o;
    switch (op) {
      case 'Add': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = x + y; } return;
      case 'Sub': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = x - y; } return;
      case 'Mul': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = x * y; } return;
      case 'Div': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = x / y; } return;
      case 'Pow': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = Math.pow(x, y); } return;
      case 'Max': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = x > y || Number.isNaN(x) ? x : y; } return;
      case 'Min': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = b[i + d]!; out[i] = x < y || Number.isNaN(x) ? x : y; } return;
    }
  }
  if (ia === 1 && ib === 0) {
    const e = pa - o;
    const y0 = b[pb]!;
    switch (op) {
      case 'Add': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = x + y; } return;
      case 'Sub': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = x - y; } return;
      case 'Mul': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = x * y; } return;
      case 'Div': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = x / y; } return;
      case 'Pow': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = Math.pow(x, y); } return;
      case 'Max': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = x > y || Number.isNaN(x) ? x : y; } return;
      case 'Min': for (let i = o; i < end; i++) { const x = a[i + e]!; const y = y0; out[i] = x < y || Number.isNaN(x) ? x : y; } return;
    }
  }
  if (ia === 0 && ib === 1) {
    const x0 = a[pa]!;
    const d = pb - o;
    switch (op) {
      case 'Add': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = x + y; } return;
      case 'Sub': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = x - y; } return;
      case 'Mul': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = x * y; } return;
      case 'Div': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = x / y; } return;
      case 'Pow': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = Math.pow(x, y); } return;
      case 'Max': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = x > y || Number.isNaN(x) ? x : y; } return;
      case 'Min': for (let i = o; i < end; i++) { const x = x0; const y = b[i + d]!; out[i] = x < y || Number.isNaN(x) ? x : y; } return;
    }
  }
  switch (op) {
    case 'Add': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = x + y; } return;
    case 'Sub': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = x - y; } return;
    case 'Mul': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = x * y; } return;
    case 'Div': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = x / y; } return;
    case 'Pow': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = Math.pow(x, y); } return;
    case 'Max': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = x > y || Number.isNaN(x) ? x : y; } return;
    case 'Min': for (let i = o, p = pa, q = pb; i < end; i++, p += ia, q += ib) { const x = a[p]!; const y = b[q]!; out[i] = x < y || Number.isNaN(x) ? x : y; } return;
  }
}

/**
 * float32 `a op b` with broadcasting over any strides into a new contiguous output: the dims are
 * collapsed ({@link collapseBroadcast}), the outer ones walked by an odometer once per row, and
 * each row runs a dedicated loop. Bit-identical to the generic `binaryStrided` kernel.
 */
export function binaryF32(op: ArithOp, a: TensorInfo, b: TensorInfo): { shape: number[]; values: Float32Array } {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = new Float32Array(sizeOf(shape));
  if (out.length === 0) return { shape, values: out };
  const av = cpuValues(a);
  const bv = cpuValues(b);
  const c = collapseBroadcast(shape, broadcastStrides(a.shape, a.strides, shape), broadcastStrides(b.shape, b.strides, shape));
  const last = c.shape.length - 1;
  const n = c.shape[last]!;
  const ia = c.sa[last]!;
  const ib = c.sb[last]!;
  let pa = a.offset;
  let pb = b.offset;
  if (last === 0) {
    row(op, out, 0, n, av, pa, ia, bv, pb, ib);
    return { shape, values: out };
  }
  if (last === 1) {
    const m = c.shape[0]!;
    const ra = c.sa[0]!;
    const rb = c.sb[0]!;
    for (let r = 0, o = 0; r < m; r++, o += n, pa += ra, pb += rb) row(op, out, o, n, av, pa, ia, bv, pb, ib);
    return { shape, values: out };
  }
  const idx = new Array<number>(last).fill(0);
  for (let o = 0; ; o += n) {
    row(op, out, o, n, av, pa, ia, bv, pb, ib);
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      pa += c.sa[d]!;
      pb += c.sb[d]!;
      if (idx[d]! < c.shape[d]!) break;
      pa -= c.sa[d]! * c.shape[d]!;
      pb -= c.sb[d]! * c.shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return { shape, values: out };
}
