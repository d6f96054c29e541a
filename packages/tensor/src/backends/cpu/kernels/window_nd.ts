import type { WindowNd } from '../../../ops/window.js';

/**
 * Walks the window positions of an N-d window in row-major order and, for each, the range of
 * kernel taps inside the input along every axis, so the kernels loop without per-tap bounds
 * checks. After {@link WindowWalker.next}, `start[a]` is the input coordinate of tap 0 along
 * axis a and the taps `lo[a] <= i < hi[a]` land inside [0, dims[a]).
 */
export class WindowWalker {
  readonly n: number;
  readonly start: Int32Array;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  private readonly pos: Int32Array;
  /** Per axis a and position o: [start, lo, hi] at tables[a][3 * o]. */
  private readonly tables: Int32Array[];
  private first = true;

  constructor(w: WindowNd, dims: readonly number[]) {
    const n = w.kernel.length;
    this.n = n;
    this.start = new Int32Array(n);
    this.lo = new Int32Array(n);
    this.hi = new Int32Array(n);
    this.pos = new Int32Array(n);
    this.tables = w.outShape.map((O, a) => {
      const t = new Int32Array(3 * O);
      const d = w.dilations[a]!;
      for (let o = 0; o < O; o++) {
        const s = o * w.strides[a]! - w.pads[a]!;
        t[3 * o] = s;
        t[3 * o + 1] = s < 0 ? Math.ceil(-s / d) : 0;
        t[3 * o + 2] = Math.min(w.kernel[a]!, Math.ceil((dims[a]! - s) / d));
      }
      return t;
    });
    this.outShape = w.outShape;
  }

  private readonly outShape: readonly number[];

  /** Restart at window position 0. */
  reset(): void {
    this.pos.fill(0);
    this.first = true;
  }

  /** Advance to the next window position (the first call gives position 0); false when the window has taps in the padding only. */
  next(): boolean {
    const { n, pos } = this;
    if (!this.first) {
      let a = n - 1;
      while (a > 0 && ++pos[a]! >= this.outShape[a]!) pos[a--] = 0;
      if (a === 0) pos[0]!++;
    }
    this.first = false;
    let any = true;
    for (let a = 0; a < n; a++) {
      const t = this.tables[a]!;
      const k = 3 * pos[a]!;
      this.start[a] = t[k]!;
      const lo = t[k + 1]!;
      const hi = t[k + 2]!;
      this.lo[a] = lo;
      this.hi[a] = hi;
      if (lo >= hi) any = false;
    }
    return any;
  }
}

/**
 * Iterate the outer (all but the last) axes of the box lo..hi in row-major order: `idx` holds
 * the current multi-index (the last entry is unused). Returns false when the box is exhausted.
 */
export function advanceOuter(idx: Int32Array, lo: Int32Array, hi: Int32Array): boolean {
  let a = idx.length - 2;
  while (a >= 0) {
    if (++idx[a]! < hi[a]!) return true;
    idx[a] = lo[a]!;
    a--;
  }
  return false;
}
