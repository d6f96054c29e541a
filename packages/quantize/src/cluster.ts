/**
 * Weight clustering (Deep Compression weight sharing), the pure-array core: 1-D k-means with
 * linear or k-means++ initialisation, zero-preserving assignment (exact zeros keep a dedicated
 * 0 centroid at code 0), 4-bit index packing, and Deep Compression's relative-index sparse
 * encoding (one byte per entry: `gapBits` of gap − 1, the rest the code; filler entries with
 * code 0 when a gap overflows). Not yet wired into a pass (see the issue-4 report).
 */
import { ArgumentError } from '@whittle/tensor';

/** Options of {@link clusterValues}. */
export interface ClusterOptions {
  /** Number of centroids including the zero centroid when the values contain zeros (2..256). */
  k: number;
  /** 'linear' (evenly spaced between min and max, Deep Compression's choice) or 'kmeans++'. */
  init?: 'linear' | 'kmeans++';
  /** Uniform [0, 1) source for k-means++ (pass one drawn from ctx.rng). */
  random?: () => number;
  /** Lloyd iterations (default 30). */
  iterations?: number;
}

/** A clustered weight: `values[i] ≈ codebook[codes[i]]`; code 0 is exactly 0 when `hasZero`. */
export interface Clustered {
  codebook: Float32Array;
  codes: Uint8Array;
  hasZero: boolean;
}

/**
 * Cluster `values` into at most `k` shared values. Exact zeros (pruned weights) map to code 0
 * with centroid 0 and never move; the other values share the remaining centroids.
 */
export function clusterValues(values: ArrayLike<number>, opts: ClusterOptions): Clustered {
  const { k } = opts;
  if (!Number.isInteger(k) || k < 2 || k > 256) throw new ArgumentError(`clusterValues: k must be an integer in [2, 256], got ${k}`);
  const n = values.length;
  let zeros = 0;
  for (let i = 0; i < n; i++) if (values[i] === 0) zeros++;
  const hasZero = zeros > 0;
  const nz = new Float64Array(n - zeros);
  for (let i = 0, j = 0; i < n; i++) if (values[i] !== 0) nz[j++] = values[i]!;
  const kk = Math.max(1, Math.min(hasZero ? k - 1 : k, nz.length));
  const centroids = nz.length ? initCentroids(nz, kk, opts) : new Float64Array(0);
  const assign = new Int32Array(nz.length);
  const iters = opts.iterations ?? 30;
  for (let it = 0; it < iters && nz.length; it++) {
    const sum = new Float64Array(kk);
    const cnt = new Float64Array(kk);
    let moved = false;
    for (let i = 0; i < nz.length; i++) {
      const a = nearest(centroids, nz[i]!);
      if (a !== assign[i]) moved = true;
      assign[i] = a;
      sum[a] = sum[a]! + nz[i]!;
      cnt[a] = cnt[a]! + 1;
    }
    for (let c = 0; c < kk; c++) if (cnt[c]! > 0) centroids[c] = sum[c]! / cnt[c]!;
    if (!moved && it > 0) break;
  }
  const off = hasZero ? 1 : 0;
  const codebook = new Float32Array(centroids.length + off);
  codebook.set(centroids, off);
  const codes = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++) codes[i] = values[i] === 0 ? 0 : nearest(centroids, nz[j++]!) + off;
  return { codebook, codes, hasZero };
}

function nearest(c: Float64Array, v: number): number {
  let best = 0;
  let bd = Infinity;
  for (let j = 0; j < c.length; j++) {
    const d = Math.abs(c[j]! - v);
    if (d < bd) {
      bd = d;
      best = j;
    }
  }
  return best;
}

function initCentroids(v: Float64Array, k: number, opts: ClusterOptions): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const c = new Float64Array(k);
  if ((opts.init ?? 'linear') === 'linear') {
    for (let j = 0; j < k; j++) c[j] = k === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * j) / (k - 1);
    return c;
  }
  const random = opts.random;
  if (!random) throw new ArgumentError("clusterValues: init 'kmeans++' needs a 'random' source (draw it from ctx.rng)");
  c[0] = v[Math.min(v.length - 1, Math.floor(random() * v.length))]!;
  const d2 = new Float64Array(v.length).fill(Infinity);
  for (let j = 1; j < k; j++) {
    let total = 0;
    for (let i = 0; i < v.length; i++) {
      const d = (v[i]! - c[j - 1]!) ** 2;
      if (d < d2[i]!) d2[i] = d;
      total += d2[i]!;
    }
    let r = random() * total;
    let pick = v.length - 1;
    for (let i = 0; i < v.length; i++) {
      r -= d2[i]!;
      if (r < 0) {
        pick = i;
        break;
      }
    }
    c[j] = v[pick]!;
  }
  return c;
}

/** Dense decode: codebook[codes[i]]. */
export function decodeClustered(c: Pick<Clustered, 'codebook' | 'codes'>): Float32Array {
  return Float32Array.from(c.codes, (q) => c.codebook[q]!);
}

/** Pack 4-bit codes two per byte (element 2i in the high nibble, 2i+1 in the low nibble). */
export function packNibbles(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i]!;
    if (q > 15) throw new ArgumentError(`packNibbles: code ${q} at ${i} does not fit in 4 bits`);
    out[i >> 1] = out[i >> 1]! | (i % 2 === 0 ? q << 4 : q);
  }
  return out;
}

/** Inverse of {@link packNibbles}. */
export function unpackNibbles(packed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = i % 2 === 0 ? packed[i >> 1]! >> 4 : packed[i >> 1]! & 15;
  return out;
}

/**
 * Pack values of `bits` bits (1..8), 8 values per `bits` bytes, most significant bits first
 * (value 8g + j sits at bits [bits·(7 − j), bits·(8 − j)) of the group's big-endian integer).
 * The tail group is zero-padded. A layout standard ONNX ops can undo (see cluster_emit).
 */
export function packBits(values: ArrayLike<number>, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new ArgumentError(`packBits: bits must be in [1, 8], got ${bits}`);
  const groups = Math.ceil(values.length / 8);
  const out = new Uint8Array(groups * bits);
  for (let g = 0; g < groups; g++) {
    let acc = 0n;
    for (let j = 0; j < 8; j++) {
      const v = g * 8 + j < values.length ? values[g * 8 + j]! : 0;
      if (!(v >= 0 && v < 2 ** bits && Number.isInteger(v))) throw new ArgumentError(`packBits: value ${v} at ${g * 8 + j} does not fit in ${bits} bits`);
      acc = (acc << BigInt(bits)) | BigInt(v);
    }
    for (let b = bits - 1; b >= 0; b--) {
      out[g * bits + b] = Number(acc & 255n);
      acc >>= 8n;
    }
  }
  return out;
}

/** Inverse of {@link packBits}. */
export function unpackBits(packed: Uint8Array, bits: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const g = i >> 3;
    const j = i & 7;
    let acc = 0n;
    for (let b = 0; b < bits; b++) acc = (acc << 8n) | BigInt(packed[g * bits + b] ?? 0);
    out[i] = Number((acc >> BigInt(bits * (7 - j))) & BigInt(2 ** bits - 1));
  }
  return out;
}

/**
 * Deep Compression's relative-index storage as two streams: for each non-zero code (code 0 =
 * zero weight), `gaps` holds its distance to the previous non-zero minus one, and `codes` holds
 * code − 1. A gap that does not fit the `gapBits` width is bridged by escape entries of value
 * 2^gapBits − 1 in `gaps` only (each advances that many positions and carries no code).
 */
export interface SparseStreams {
  gaps: Uint8Array;
  codes: Uint8Array;
  gapBits: number;
}

/** Encode dense codes as {@link SparseStreams}. */
export function encodeSparse(codes: Uint8Array, gapBits: number): SparseStreams {
  if (!Number.isInteger(gapBits) || gapBits < 1 || gapBits > 8) throw new ArgumentError(`encodeSparse: gapBits must be in [1, 8], got ${gapBits}`);
  const esc = 2 ** gapBits - 1;
  const gaps: number[] = [];
  const out: number[] = [];
  let prev = -1;
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i]!;
    if (q === 0) continue;
    let gap = i - prev - 1;
    while (gap >= esc) {
      gaps.push(esc);
      gap -= esc;
    }
    gaps.push(gap);
    out.push(q - 1);
    prev = i;
  }
  return { gaps: Uint8Array.from(gaps), codes: Uint8Array.from(out), gapBits };
}

/** Inverse of {@link encodeSparse}: the dense codes of `length` elements. */
export function decodeSparse(s: SparseStreams, length: number): Uint8Array {
  const esc = 2 ** s.gapBits - 1;
  const out = new Uint8Array(length);
  let pos = -1;
  let k = 0;
  for (const g of s.gaps) {
    if (g === esc) {
      pos += esc;
      continue;
    }
    pos += g + 1;
    if (pos >= length) throw new ArgumentError(`decodeSparse: entry points at ${pos}, beyond ${length} elements`);
    if (k >= s.codes.length) throw new ArgumentError('decodeSparse: more gaps than codes');
    out[pos] = s.codes[k++]! + 1;
  }
  return out;
}

/** Bits needed for values 0..n−1 (at least 1). */
export function bitsFor(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));
}

/** The gap width (1..8 bits) that makes the gap stream smallest for these codes. */
export function bestGapBits(codes: Uint8Array): number {
  let best = 8;
  let bestBits = Infinity;
  for (let b = 1; b <= 8; b++) {
    const esc = 2 ** b - 1;
    let entries = 0;
    let prev = -1;
    for (let i = 0; i < codes.length; i++) {
      if (codes[i] === 0) continue;
      entries += 1 + Math.floor((i - prev - 1) / esc);
      prev = i;
    }
    if (entries * b < bestBits) [best, bestBits] = [b, entries * b];
  }
  return best;
}
