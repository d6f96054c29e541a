import { ArgumentError, type Tensor } from '@whittle/tensor';

/** Outcome of {@link checkNMPattern}. */
export interface NMCheck {
  /** True when every group of `m` consecutive elements along the axis has at most `n` nonzeros. */
  ok: boolean;
  /** Groups checked. */
  groups: number;
  /** Groups with more than `n` nonzeros. */
  violations: number;
  /** Multi-index of the first element of the first violating group. */
  firstViolation?: number[];
  /** Fraction of zeros in the tensor. */
  sparsity: number;
}

function view(shape: readonly number[], axis: number): { pre: number; len: number; post: number; axis: number } {
  const r = shape.length;
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) throw new ArgumentError(`N:M: axis ${axis} is out of range for a rank-${r} tensor`);
  let pre = 1;
  let post = 1;
  for (let i = 0; i < a; i++) pre *= shape[i]!;
  for (let i = a + 1; i < r; i++) post *= shape[i]!;
  return { pre, len: shape[a]!, post, axis: a };
}

function checkNM(n: number, m: number, where: string): void {
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 0 || m < 1 || n > m) {
    throw new ArgumentError(`${where}: N:M needs integers 0 <= n <= m and m >= 1, got ${n}:${m}`);
  }
}

/**
 * Check the N:M semi-structured pattern: along `axis`, every group of `m` consecutive elements
 * (all other indices fixed) holds at most `n` nonzeros. A last partial group (axis length not a
 * multiple of `m`) must hold at most `n` nonzeros too. For MatMul weights [K, N] use axis 0, for
 * Gemm transB=1 weights [N, K] axis 1, for Conv weights [O, I, kh, kw] axis 1 (groups of input
 * channels at each kernel position: the reduction dimension in NHWC / implicit-GEMM order).
 *
 * Accepts a cpu tensor or `{ values, shape }`.
 */
export function checkNMPattern(t: Tensor | { values: ArrayLike<number>; shape: readonly number[] }, n: number, m: number, axis: number): NMCheck {
  checkNM(n, m, 'checkNMPattern');
  const values = 'values' in t ? t.values : (t.dataSync() as ArrayLike<number>);
  const shape = t.shape;
  const v = view(shape, axis);
  let groups = 0;
  let violations = 0;
  let first: number[] | undefined;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  for (let p = 0; p < v.pre; p++) {
    for (let q = 0; q < v.post; q++) {
      for (let g0 = 0; g0 < v.len; g0 += m) {
        let nz = 0;
        for (let k = g0; k < Math.min(g0 + m, v.len); k++) if (values[(p * v.len + k) * v.post + q] !== 0) nz++;
        groups++;
        if (nz > n) {
          violations++;
          if (!first) first = unravel((p * v.len + g0) * v.post + q, shape);
        }
      }
    }
  }
  return { ok: violations === 0, groups, violations, ...(first ? { firstViolation: first } : {}), sparsity: values.length ? zeros / values.length : 0 };
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return idx;
}

/**
 * Keep-mask (1 = keep) with the N:M pattern along `axis`: in each group of `m` consecutive
 * elements keep the `n` with the highest `scores` (ties: lower index first). The axis length must
 * be a multiple of `m`.
 */
export function nmMask(scores: Float32Array, shape: readonly number[], n: number, m: number, axis: number): Uint8Array {
  checkNM(n, m, 'nmMask');
  const v = view(shape, axis);
  if (v.len % m !== 0) throw new ArgumentError(`nmMask: axis ${v.axis} has length ${v.len}, not a multiple of m=${m}`);
  const mask = new Uint8Array(scores.length);
  const idx = new Array<number>(m);
  for (let p = 0; p < v.pre; p++) {
    for (let q = 0; q < v.post; q++) {
      for (let g0 = 0; g0 < v.len; g0 += m) {
        for (let k = 0; k < m; k++) idx[k] = (p * v.len + g0 + k) * v.post + q;
        idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
        for (let k = 0; k < n; k++) mask[idx[k]!] = 1;
      }
    }
  }
  return mask;
}
