/**
 * Integer-grid math shared by the quantization passes: quantization parameters of a group of
 * values, round-to-nearest codes, and fake quantization. Plain typed arrays, float64 math.
 */

/** How a group of values is mapped to integers. */
export interface GridSpec {
  /** Bits of the grid (2..8). */
  bits: number;
  /** Symmetric grid (zero point at the middle code) or asymmetric (min/max mapped to the ends). */
  symmetric: boolean;
}

/** Quantization parameters of one group: `x ≈ (q - zeroPoint) * scale`, q in [0, 2^bits - 1]. */
export interface GroupParams {
  scale: number;
  /** Unsigned zero point (a code in [0, 2^bits - 1]). */
  zeroPoint: number;
}

/** Round half to even (what ONNX QuantizeLinear does). */
export function roundEven(x: number): number {
  // Math.round sends ties up (r − x = 0.5); an odd result there goes one down instead
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Parameters of a group with range [lo, hi] (the range is widened to include 0 so that 0 is
 * exactly representable). Symmetric: scale = max|x| / (2^(bits-1) - 1), zero point 2^(bits-1);
 * asymmetric: scale = (hi - lo) / (2^bits - 1), zero point round(-lo / scale).
 */
export function groupParams(lo: number, hi: number, grid: GridSpec): GroupParams {
  const levels = 2 ** grid.bits - 1;
  if (grid.symmetric) {
    const half = 2 ** (grid.bits - 1);
    const amax = Math.max(Math.abs(lo), Math.abs(hi));
    const qmax = Math.max(1, half - 1);
    return { scale: amax > 0 ? amax / qmax : 1, zeroPoint: half };
  }
  const l = Math.min(lo, 0);
  const h = Math.max(hi, 0);
  if (h - l <= 0) return { scale: 1, zeroPoint: 0 };
  const scale = (h - l) / levels;
  return { scale, zeroPoint: Math.min(levels, Math.max(0, roundEven(-l / scale))) };
}

/** The unsigned code of `x` (saturated to [0, 2^bits - 1]). */
export function quantizeValue(x: number, p: GroupParams, bits: number): number {
  const q = roundEven(x / p.scale) + p.zeroPoint;
  const max = 2 ** bits - 1;
  return q < 0 ? 0 : q > max ? max : q;
}

/** (q - zeroPoint) * scale. */
export function dequantizeValue(q: number, p: GroupParams): number {
  return (q - p.zeroPoint) * p.scale;
}

/** Range of `values[idx]` for the given indices. */
export function rangeOf(values: ArrayLike<number>, indices: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < indices.length; i++) {
    const v = values[indices[i]!]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return indices.length ? [lo, hi] : [0, 0];
}

/** Mean squared error between two arrays. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return a.length ? s / a.length : 0;
}

/**
 * Mean squared error between two [rows, cols] row-major arrays, summed per row (float64, in order,
 * each row from 0) and the row sums added in row order: the order in which the MatMulNBits kernel
 * adds a weight's errors while it quantizes (nbits_error.ts), so both give the same number.
 */
export function rowwiseMse(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) {
    let row = 0;
    for (let i = r * cols; i < (r + 1) * cols; i++) {
      const d = a[i]! - b[i]!;
      row += d * d;
    }
    s += row;
  }
  return rows * cols ? s / (rows * cols) : 0;
}

/** Cosine similarity of two arrays. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa && bb ? ab / Math.sqrt(aa * bb) : aa === bb ? 1 : 0;
}
