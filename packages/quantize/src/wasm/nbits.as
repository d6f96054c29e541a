// AssemblyScript source of the WASM SIMD MatMulNBits quantizer (RTN, block-wise along K) used by
// nbits_kernel.ts. Build: `pnpm --filter @whittle/quantize build:wasm` (scripts/build-wasm.mjs)
// regenerates nbits_bytes.ts. The file ends in .as so tsc ignores it; the script compiles a .ts copy.
//
// Bytes are identical to the JS kernel and to quantizeRtn + packMatMulNBits: group parameters in
// f64 with the same formulas; a code is x * f32(1 / scale) rounded to nearest in f32, which equals
// round(x / scale) (f64, ties to even) unless the product lies within 2^(bits-21) of a rounding tie
// (its error is below 2^(bits-23)) or is NaN — such a row pair is recomputed with the exact f64
// division. Groups whose parameters are not finite, a last block shorter than the block size and
// columns past the last full group of 16 take the scalar exact path.
//
// Squared errors (when the caller passes an `outE`): per column of B (a row of the canonical
// weight) a float64 sum of (x - (code - zp) * f64(f32 scale))^2 over K in order, each column from
// 0 — the same operations and order as `packedRowErrors` in nbits_error.ts, so the same bits. The
// column kernel keeps each column's sum in its own f64 lane and adds a block's rows in order; the
// rows kernel adds one row's errors in a scalar chain after quantizing it.

// @ts-nocheck

/** Scratch layout (bytes from `scratch`): block rows [bs][16] f32, then the small per-group arrays. */
const ACC: usize = 0; // 16 x f32 (absmax or lo), then 16 x f32 (hi)
const INV: usize = 128; // 16 x f32: f32(1 / scale)
const ZPI: usize = 192; // 16 x i32: zero points
const SC: usize = 256; // 16 x f64: scales
const ZPF: usize = 384; // 16 x f64: zero points as computed (may be NaN)
const STAGE: usize = 512; // 16 x blob bytes (blob <= 256 for bs <= 256; larger blocks take the scalar path)
const ROWS: usize = 512 + 16 * 256; // bs x 16 f32
const SCF: usize = ROWS + 256 * 64; // 16 x f64: the stored (f32) scales, for the errors
const CODES: usize = SCF + 128; // [bs / step][16] u8: the code bytes of the stage, row by row

let gScale: f64 = 0;
let gZp: f64 = 0;

/** groupParams of quantize/quant_math.ts for range [lo, hi] → gScale, gZp. */
function params(lo: f64, hi: f64, bits: i32, sym: i32): void {
  const levels = <f64>((1 << bits) - 1);
  if (sym) {
    const half = <f64>(1 << (bits - 1));
    const amax = max(abs(lo), abs(hi));
    const qmax = max(1.0, half - 1.0);
    gScale = amax > 0 ? amax / qmax : 1.0;
    gZp = half;
    return;
  }
  const l = min(lo, 0.0);
  const h = max(hi, 0.0);
  if (h - l <= 0) {
    gScale = 1.0;
    gZp = 0;
    return;
  }
  gScale = (h - l) / levels;
  gZp = min(levels, max(0.0, nearest(-l / gScale)));
}

/** rne(x / scale) + zp clamped to [0, max]; NaN → 0 (what `code & 15` does to NaN in JS). */
@inline function exactCode(x: f64, scale: f64, zp: f64, mx: f64): i32 {
  let q = nearest(x / scale) + zp;
  if (q != q) return 0;
  q = q < 0 ? 0 : q > mx ? mx : q;
  return <i32>q;
}

@inline function zpInt(z: f64): i32 {
  return z == z ? <i32>z : 0;
}

/** Write the zero point of (column c, block b). zps were zeroed by the caller of the block loop. */
@inline function putZp(outZ: usize, c: i32, b: i32, zpBytes: i32, container: i32, zi: i32): void {
  if (container == 4) {
    const p = outZ + <usize>(c * zpBytes + (b >> 1));
    store<u8>(p, load<u8>(p) | ((zi & 15) << ((b & 1) * 4)));
  } else store<u8>(outZ + <usize>(c * zpBytes + b), zi & 255);
}

/** (x - (code - zp) * scale)^2 as the JS reference computes it (float64, no fused multiply-add). */
@inline function sqErr(x: f64, code: i32, zi: i32, scale: f64): f64 {
  const d = x - <f64>(code - zi) * scale;
  return d * d;
}

/**
 * Scalar exact path for column c, block b (range skipping NaN, exact codes, padding = zero point):
 * `col` points at element (k0, c), rows `strideB` bytes apart. With `e` (else 0), the block's
 * squared errors are added in row order to the f64 at `e`.
 */
function scalarBlock(col: usize, strideB: usize, full: i32, bs: i32, bits: i32, sym: i32, container: i32, out: usize, outS: usize, outZ: usize, c: i32, b: i32, nb: i32, zpBytes: i32, e: usize): void {
  let lo: f64 = Infinity;
  let hi: f64 = -Infinity;
  for (let t = 0; t < full; t++) {
    const v = <f64>load<f32>(col + <usize>t * strideB);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  params(lo, hi, bits, sym);
  const sc = gScale;
  const z = gZp;
  store<f32>(outS + ((<usize>(c * nb + b)) << 2), <f32>sc);
  const zi = zpInt(z);
  putZp(outZ, c, b, zpBytes, container, zi);
  const mx = <f64>((1 << bits) - 1);
  if (container == 4) {
    for (let t = 0; t < bs; t += 2) {
      const a = t < full ? exactCode(<f64>load<f32>(col + <usize>t * strideB), sc, z, mx) : zi;
      const d = t + 1 < full ? exactCode(<f64>load<f32>(col + <usize>(t + 1) * strideB), sc, z, mx) : zi;
      store<u8>(out + <usize>(t >> 1), (a & 15) | ((d & 15) << 4));
    }
  } else {
    for (let t = 0; t < bs; t++) store<u8>(out + <usize>t, (t < full ? exactCode(<f64>load<f32>(col + <usize>t * strideB), sc, z, mx) : zi) & 255);
  }
  if (e) {
    // the codes as stored (zero point and code masked to the container, scale rounded to f32)
    const s = <f64><f32>sc;
    const zs = container == 4 ? zi & 15 : zi & 255;
    let acc = load<f64>(e);
    for (let t = 0; t < full; t++) {
      const code = container == 4 ? (<i32>load<u8>(out + <usize>(t >> 1)) >> ((t & 1) << 2)) & 15 : <i32>load<u8>(out + <usize>t);
      acc += sqErr(<f64>load<f32>(col + <usize>t * strideB), code, zs, s);
    }
    store<f64>(e, acc);
  }
}

/**
 * Quantize `cols` columns of a float32 matrix [K, *] at `w` (rows `stride` floats apart) — rows
 * 0 .. K-1 of a weight whose blocks along K number `nbT`, starting at block `b0` (K is a multiple
 * of the block size unless the rows end the weight): packed blocks to `outB` [cols, nbT, blob],
 * scales (f32) to `outS` [cols, nbT], zero points OR-ed into `outZ` [cols, zpBytes of nbT] (zeroed
 * by the caller). `scratch` holds 512 + 16 * 256 + 256 * 64 + 128 + 16 * 256 bytes. With `outE` (else 0), each
 * column's squared errors are added to the f64 sums [cols] there (zeroed by the caller before
 * the first rows of the weight), in row order.
 */
export function quantizeCols(w: usize, stride: i32, K: i32, cols: i32, bits: i32, sym: i32, bs: i32, container: i32, outB: usize, outS: usize, outZ: usize, scratch: usize, nbT: i32, b0: i32, outE: usize): void {
  const nb = (K + bs - 1) / bs;
  const blob = (bs * container) >> 3;
  const zpBytes = (nbT * container + 7) >> 3;
  const strideB = (<usize>stride) << 2;
  const groups = bs <= 256 ? cols >> 4 : 0;
  for (let b = 0; b < nb; b++) {
    const k0 = b * bs;
    const bb = b0 + b;
    const full = min(bs, K - k0);
    const rowBase = w + <usize>k0 * strideB;
    for (let g = 0; g < groups; g++) {
      const c0 = g << 4;
      if (full < bs || !fastGroup(rowBase + ((<usize>c0) << 2), strideB, bs, bits, sym, container, blob, scratch, outS, outZ, c0, bb, nbT, zpBytes)) {
        for (let c = c0; c < c0 + 16; c++) scalarBlock(rowBase + ((<usize>c) << 2), strideB, full, bs, bits, sym, container, outB + <usize>((c * nbT + bb) * blob), outS, outZ, c, bb, nbT, zpBytes, outE ? outE + ((<usize>c) << 3) : 0);
        continue;
      }
      if (outE) errorPass(scratch + ROWS, bs, container, scratch, outE + ((<usize>c0) << 3));
      // stage [16][blob] → out, 8 bytes at a time (blob is a multiple of 8)
      for (let c = 0; c < 16; c++) {
        const src = scratch + STAGE + <usize>(c * blob);
        const dst = outB + <usize>(((c0 + c) * nbT + bb) * blob);
        for (let i = 0; i < blob; i += 8) store<u64>(dst + <usize>i, load<u64>(src + <usize>i));
      }
    }
    for (let c = groups << 4; c < cols; c++) scalarBlock(rowBase + ((<usize>c) << 2), strideB, full, bs, bits, sym, container, outB + <usize>((c * nbT + bb) * blob), outS, outZ, c, bb, nbT, zpBytes, outE ? outE + ((<usize>c) << 3) : 0);
  }
}

/**
 * One full block of 16 columns starting at `p` (element (k0, c0)). Returns false, writing nothing,
 * when a column's parameters are not finite (or f32(1 / scale) is not a normal number): the caller
 * then takes the scalar path for the group.
 */
function fastGroup(p: usize, strideB: usize, bs: i32, bits: i32, sym: i32, container: i32, blob: i32, scratch: usize, outS: usize, outZ: usize, c0: i32, b: i32, nb: i32, zpBytes: i32): bool {
  const rows = scratch + ROWS;
  // pass 1: copy the 16-column strip of the block's rows contiguous, with per-column range.
  // pmax(a, v) = a < v ? v : a and pmin(a, v) = v < a ? v : a skip a NaN v, like JS's compare loop.
  if (sym) {
    let a0 = f32x4.splat(-1), a1 = a0, a2 = a0, a3 = a0;
    for (let t = 0; t < bs; t++) {
      const s = p + <usize>t * strideB;
      const d = rows + ((<usize>t) << 6);
      const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32), v3 = v128.load(s, 48);
      v128.store(d, v0);
      v128.store(d, v1, 16);
      v128.store(d, v2, 32);
      v128.store(d, v3, 48);
      a0 = f32x4.pmax(a0, f32x4.abs(v0));
      a1 = f32x4.pmax(a1, f32x4.abs(v1));
      a2 = f32x4.pmax(a2, f32x4.abs(v2));
      a3 = f32x4.pmax(a3, f32x4.abs(v3));
    }
    v128.store(scratch + ACC, a0);
    v128.store(scratch + ACC, a1, 16);
    v128.store(scratch + ACC, a2, 32);
    v128.store(scratch + ACC, a3, 48);
  } else {
    let l0 = f32x4.splat(Infinity), l1 = l0, l2 = l0, l3 = l0;
    let h0 = f32x4.splat(-Infinity), h1 = h0, h2 = h0, h3 = h0;
    for (let t = 0; t < bs; t++) {
      const s = p + <usize>t * strideB;
      const d = rows + ((<usize>t) << 6);
      const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32), v3 = v128.load(s, 48);
      v128.store(d, v0);
      v128.store(d, v1, 16);
      v128.store(d, v2, 32);
      v128.store(d, v3, 48);
      l0 = f32x4.pmin(l0, v0);
      l1 = f32x4.pmin(l1, v1);
      l2 = f32x4.pmin(l2, v2);
      l3 = f32x4.pmin(l3, v3);
      h0 = f32x4.pmax(h0, v0);
      h1 = f32x4.pmax(h1, v1);
      h2 = f32x4.pmax(h2, v2);
      h3 = f32x4.pmax(h3, v3);
    }
    v128.store(scratch + ACC, l0);
    v128.store(scratch + ACC, l1, 16);
    v128.store(scratch + ACC, l2, 32);
    v128.store(scratch + ACC, l3, 48);
    v128.store(scratch + ACC, h0, 64);
    v128.store(scratch + ACC, h1, 80);
    v128.store(scratch + ACC, h2, 96);
    v128.store(scratch + ACC, h3, 112);
  }
  // parameters per column (f64, the JS formulas); an all-NaN symmetric column kept -1 = range [inf, -inf]
  for (let c = 0; c < 16; c++) {
    let lo: f64, hi: f64;
    if (sym) {
      const a = <f64>load<f32>(scratch + ACC + ((<usize>c) << 2));
      lo = a < 0 ? Infinity : -a;
      hi = a < 0 ? -Infinity : a;
    } else {
      lo = <f64>load<f32>(scratch + ACC + ((<usize>c) << 2));
      hi = <f64>load<f32>(scratch + ACC + 64 + ((<usize>c) << 2));
    }
    params(lo, hi, bits, sym);
    const inv = <f32>(1.0 / gScale);
    if (!(gZp == gZp) || !(inv < Infinity) || !(inv >= 1.17549435e-38)) return false;
    store<f64>(scratch + SC + ((<usize>c) << 3), gScale);
    store<f64>(scratch + ZPF + ((<usize>c) << 3), gZp);
    store<f64>(scratch + SCF + ((<usize>c) << 3), <f64><f32>gScale);
    store<f32>(scratch + INV + ((<usize>c) << 2), inv);
    store<i32>(scratch + ZPI + ((<usize>c) << 2), <i32>gZp);
  }
  for (let c = 0; c < 16; c++) {
    store<f32>(outS + ((<usize>((c0 + c) * nb + b)) << 2), <f32>load<f64>(scratch + SC + ((<usize>c) << 3)));
    putZp(outZ, c0 + c, b, zpBytes, container, load<i32>(scratch + ZPI + ((<usize>c) << 2)));
  }
  // pass 2: codes; a lane within 2^(bits-21) of a tie (or NaN) sends its row (pair) to the exact path
  const mx = (1 << bits) - 1;
  const thr = f32x4.splat(<f32>(0.5 - <f64>(1 << bits) / 2097152.0));
  const vmax = i32x4.splat(mx);
  const zero = i32x4.splat(0);
  const i0 = v128.load(scratch + INV), i1 = v128.load(scratch + INV, 16), i2 = v128.load(scratch + INV, 32), i3 = v128.load(scratch + INV, 48);
  const z0 = v128.load(scratch + ZPI), z1 = v128.load(scratch + ZPI, 16), z2 = v128.load(scratch + ZPI, 32), z3 = v128.load(scratch + ZPI, 48);
  // symmetric codes need no clamp: |x * f32(1 / scale)| <= qmax (1 + 2^-22), so the rounded code
  // is within zp ± qmax = [1, 2^bits - 1]
  if (sym) codesPass(rows, bs, container, blob, scratch, thr, i0, i1, i2, i3, z0, z1, z2, z3, zero, vmax, <f64>mx, false);
  else codesPass(rows, bs, container, blob, scratch, thr, i0, i1, i2, i3, z0, z1, z2, z3, zero, vmax, <f64>mx, true);
  return true;
}

/** Codes (zero point added, clamped when `clamp`) of the rounded products n. */
@inline function code4(n: v128, z: v128, zero: v128, vmax: v128, clamp: bool): v128 {
  const q = i32x4.add(i32x4.trunc_sat_f32x4_s(n), z);
  return clamp ? i32x4.min_s(i32x4.max_s(q, zero), vmax) : q;
}

/** |y - n| lane-wise (NaN stays NaN, so max() carries it to the tie test). */
@inline function dist(y: v128, n: v128): v128 {
  return f32x4.abs(f32x4.sub(y, n));
}

/**
 * Pass 2 of fastGroup: codes of the block rows in `rows` ([bs][16] f32) into the stage [16][blob];
 * a row (pair) with a lane within the tie margin or NaN is redone by exactRows.
 */
@inline function codesPass(rows: usize, bs: i32, container: i32, blob: i32, scratch: usize, thr: v128, i0: v128, i1: v128, i2: v128, i3: v128, z0: v128, z1: v128, z2: v128, z3: v128, zero: v128, vmax: v128, mx: f64, clamp: bool): void {
  const stage = scratch + STAGE;
  const step = container == 4 ? 2 : 1;
  const bl = <usize>blob;
  for (let t = 0; t < bs; t += step) {
    const r = rows + ((<usize>t) << 6);
    let y0 = f32x4.mul(v128.load(r), i0), y1 = f32x4.mul(v128.load(r, 16), i1), y2 = f32x4.mul(v128.load(r, 32), i2), y3 = f32x4.mul(v128.load(r, 48), i3);
    let n0 = f32x4.nearest(y0), n1 = f32x4.nearest(y1), n2 = f32x4.nearest(y2), n3 = f32x4.nearest(y3);
    let d = f32x4.max(f32x4.max(dist(y0, n0), dist(y1, n1)), f32x4.max(dist(y2, n2), dist(y3, n3)));
    let q0 = code4(n0, z0, zero, vmax, clamp), q1 = code4(n1, z1, zero, vmax, clamp), q2 = code4(n2, z2, zero, vmax, clamp), q3 = code4(n3, z3, zero, vmax, clamp);
    if (container == 4) {
      const r1 = r + 64;
      y0 = f32x4.mul(v128.load(r1), i0);
      y1 = f32x4.mul(v128.load(r1, 16), i1);
      y2 = f32x4.mul(v128.load(r1, 32), i2);
      y3 = f32x4.mul(v128.load(r1, 48), i3);
      n0 = f32x4.nearest(y0);
      n1 = f32x4.nearest(y1);
      n2 = f32x4.nearest(y2);
      n3 = f32x4.nearest(y3);
      d = f32x4.max(d, f32x4.max(f32x4.max(dist(y0, n0), dist(y1, n1)), f32x4.max(dist(y2, n2), dist(y3, n3))));
      q0 = v128.or(q0, i32x4.shl(code4(n0, z0, zero, vmax, clamp), 4));
      q1 = v128.or(q1, i32x4.shl(code4(n1, z1, zero, vmax, clamp), 4));
      q2 = v128.or(q2, i32x4.shl(code4(n2, z2, zero, vmax, clamp), 4));
      q3 = v128.or(q3, i32x4.shl(code4(n3, z3, zero, vmax, clamp), 4));
    }
    const bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(q0, q1), i16x8.narrow_i32x4_u(q2, q3));
    // the same bytes row by row (lane = column) for errorPass
    v128.store(scratch + CODES + ((<usize>(container == 4 ? t >> 1 : t)) << 4), bytes);
    const o = stage + <usize>(container == 4 ? t >> 1 : t);
    v128.store8_lane(o, bytes, 0);
    v128.store8_lane(o + bl, bytes, 1);
    v128.store8_lane(o + 2 * bl, bytes, 2);
    v128.store8_lane(o + 3 * bl, bytes, 3);
    v128.store8_lane(o + 4 * bl, bytes, 4);
    v128.store8_lane(o + 5 * bl, bytes, 5);
    v128.store8_lane(o + 6 * bl, bytes, 6);
    v128.store8_lane(o + 7 * bl, bytes, 7);
    v128.store8_lane(o + 8 * bl, bytes, 8);
    v128.store8_lane(o + 9 * bl, bytes, 9);
    v128.store8_lane(o + 10 * bl, bytes, 10);
    v128.store8_lane(o + 11 * bl, bytes, 11);
    v128.store8_lane(o + 12 * bl, bytes, 12);
    v128.store8_lane(o + 13 * bl, bytes, 13);
    v128.store8_lane(o + 14 * bl, bytes, 14);
    v128.store8_lane(o + 15 * bl, bytes, 15);
    if (!i32x4.all_true(f32x4.le(d, thr))) exactRows(r, t, step, scratch, container, blob, mx);
  }
}

/** Recompute the codes of block rows t (.. t+1 for 4-bit containers) of the 16 columns exactly. */
function exactRows(r: usize, t: i32, step: i32, scratch: usize, container: i32, blob: i32, mx: f64): void {
  for (let c = 0; c < 16; c++) {
    const sc = load<f64>(scratch + SC + ((<usize>c) << 3));
    const z = load<f64>(scratch + ZPF + ((<usize>c) << 3));
    const a = exactCode(<f64>load<f32>(r + ((<usize>c) << 2)), sc, z, mx);
    if (step == 2) {
      const d = exactCode(<f64>load<f32>(r + 64 + ((<usize>c) << 2)), sc, z, mx);
      const byte = (a & 15) | ((d & 15) << 4);
      store<u8>(scratch + STAGE + <usize>(c * blob + (t >> 1)), byte);
      store<u8>(scratch + CODES + <usize>(((t >> 1) << 4) + c), byte);
    } else {
      store<u8>(scratch + STAGE + <usize>(c * blob + t), a & 255);
      store<u8>(scratch + CODES + <usize>((t << 4) + c), a & 255);
    }
  }
}

/**
 * Adds the squared errors of a fast group's block (floats in `rows` [bs][16], code bytes in CODES,
 * scales in SCF, zero points in ZPI) to the 16 column sums at `e`: each column's sum is one f64
 * lane, so its rows are added in order. Eight columns at a time (four sums, four scales in registers).
 */
function errorPass(rows: usize, bs: i32, container: i32, scratch: usize, e: usize): void {
  const low = i16x8.splat(15);
  for (let h: usize = 0; h < 16; h += 8) {
    const ep = e + (h << 3);
    let a0 = v128.load(ep), a1 = v128.load(ep, 16), a2 = v128.load(ep, 32), a3 = v128.load(ep, 48);
    const sp = scratch + SCF + (h << 3);
    const s0 = v128.load(sp), s1 = v128.load(sp, 16), s2 = v128.load(sp, 32), s3 = v128.load(sp, 48);
    const zl = v128.load(scratch + ZPI + (h << 2)), zh = v128.load(scratch + ZPI + (h << 2), 16);
    for (let t = 0; t < bs; t++) {
      // u16 lanes: the code bytes of row t (a 4-bit container holds rows t, t+1 in one byte)
      let c = v128.load8x8_u(scratch + CODES + ((<usize>(container == 4 ? t >> 1 : t)) << 4) + h);
      if (container == 4) c = t & 1 ? i16x8.shr_u(c, 4) : v128.and(c, low);
      const ql = i32x4.sub(i32x4.extend_low_i16x8_u(c), zl);
      const qh = i32x4.sub(i32x4.extend_high_i16x8_u(c), zh);
      const r = rows + ((<usize>t) << 6) + (h << 2);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(r)), f64x2.mul(f64x2.convert_low_i32x4_s(ql), s0));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(r, 8)), f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(ql, ql, 2, 3, 2, 3)), s1));
      const d2 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(r, 16)), f64x2.mul(f64x2.convert_low_i32x4_s(qh), s2));
      const d3 = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(r, 24)), f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(qh, qh, 2, 3, 2, 3)), s3));
      a0 = f64x2.add(a0, f64x2.mul(d0, d0));
      a1 = f64x2.add(a1, f64x2.mul(d1, d1));
      a2 = f64x2.add(a2, f64x2.mul(d2, d2));
      a3 = f64x2.add(a3, f64x2.mul(d3, d3));
    }
    v128.store(ep, a0);
    v128.store(ep, a1, 16);
    v128.store(ep, a2, 32);
    v128.store(ep, a3, 48);
  }
}

/**
 * Rows layout (a tied token table: each row is one column of B, K contiguous floats): `r` rows at
 * `src` to packed blocks [r, nb, blob] at `outB`, scales [r, nb] at `outS` and zero points OR-ed
 * into [r, zpBytes] at `outZ` (zeroed by the caller). Full blocks of 4-bit containers take SIMD,
 * everything else (and any block with a lane near a tie or NaN) the scalar exact path. With
 * `outE` (else 0), each row's sum of squared errors goes to the f64s [r] there.
 */
export function quantizeRows(src: usize, K: i32, r: i32, bits: i32, sym: i32, bs: i32, container: i32, outB: usize, outS: usize, outZ: usize, outE: usize): void {
  const nb = (K + bs - 1) / bs;
  const blob = (bs * container) >> 3;
  const zpBytes = (nb * container + 7) >> 3;
  const mx = (1 << bits) - 1;
  const thr = f32x4.splat(<f32>(0.5 - <f64>(1 << bits) / 2097152.0));
  const lowNib = i16x8.splat(0x000f);
  const highNib = i16x8.splat(0x00f0);
  for (let j = 0; j < r; j++) {
    const row = src + ((<usize>(j * K)) << 2);
    for (let b = 0; b < nb; b++) {
      const p = row + ((<usize>(b * bs)) << 2);
      const full = min(bs, K - b * bs);
      const out = outB + <usize>((j * nb + b) * blob);
      if (container != 4 || full < bs || !rowBlock(p, bs, bits, sym, mx, thr, lowNib, highNib, out, outS + ((<usize>(j * nb + b)) << 2), outZ, j, b, zpBytes)) {
        scalarBlock(p, 4, full, bs, bits, sym, container, out, outS, outZ, j, b, nb, zpBytes, 0);
      }
    }
    if (outE) store<f64>(outE + ((<usize>j) << 3), rowErrors(row, K, bs, container, outB + <usize>(j * nb * blob), outS + ((<usize>(j * nb)) << 2), outZ + <usize>(j * zpBytes)));
  }
}

/** Sum of the squared errors of one quantized row (K floats at `x`, its packed blocks, scales and zero points), in order. */
function rowErrors(x: usize, K: i32, bs: i32, container: i32, blocks: usize, scales: usize, zps: usize): f64 {
  const blob = (bs * container) >> 3;
  let acc: f64 = 0;
  for (let b = 0, k0 = 0; k0 < K; b++, k0 += bs) {
    const s = <f64>load<f32>(scales + ((<usize>b) << 2));
    const out = blocks + <usize>(b * blob);
    const p = x + ((<usize>k0) << 2);
    const full = min(bs, K - k0);
    if (container == 4) {
      const zi = (<i32>load<u8>(zps + <usize>(b >> 1)) >> ((b & 1) << 2)) & 15;
      for (let t = 0; t < full; t++) acc += sqErr(<f64>load<f32>(p + ((<usize>t) << 2)), (<i32>load<u8>(out + <usize>(t >> 1)) >> ((t & 1) << 2)) & 15, zi, s);
    } else {
      const zi = <i32>load<u8>(zps + <usize>b);
      for (let t = 0; t < full; t++) acc += sqErr(<f64>load<f32>(p + ((<usize>t) << 2)), <i32>load<u8>(out + <usize>t), zi, s);
    }
  }
  return acc;
}

/** One full 4-bit block of a row; false (the caller redoes it exactly) on non-finite parameters, a near tie or NaN. */
function rowBlock(p: usize, bs: i32, bits: i32, sym: i32, mx: i32, thr: v128, lowNib: v128, highNib: v128, out: usize, sPtr: usize, outZ: usize, j: i32, b: i32, zpBytes: i32): bool {
  let lo: f64, hi: f64;
  if (sym) {
    let a = f32x4.splat(-1);
    for (let i = 0; i < bs; i += 4) a = f32x4.pmax(a, f32x4.abs(v128.load(p + ((<usize>i) << 2))));
    let m = f32x4.extract_lane(a, 0);
    const m1 = f32x4.extract_lane(a, 1), m2 = f32x4.extract_lane(a, 2), m3 = f32x4.extract_lane(a, 3);
    if (m1 > m) m = m1;
    if (m2 > m) m = m2;
    if (m3 > m) m = m3;
    lo = m < 0 ? Infinity : -<f64>m;
    hi = m < 0 ? -Infinity : <f64>m;
  } else {
    let l = f32x4.splat(Infinity), h = f32x4.splat(-Infinity);
    for (let i = 0; i < bs; i += 4) {
      const v = v128.load(p + ((<usize>i) << 2));
      l = f32x4.pmin(l, v);
      h = f32x4.pmax(h, v);
    }
    let a = f32x4.extract_lane(l, 0), c = f32x4.extract_lane(h, 0);
    for (let k: u8 = 1; k < 4; k++) {
      const x = k == 1 ? f32x4.extract_lane(l, 1) : k == 2 ? f32x4.extract_lane(l, 2) : f32x4.extract_lane(l, 3);
      const y = k == 1 ? f32x4.extract_lane(h, 1) : k == 2 ? f32x4.extract_lane(h, 2) : f32x4.extract_lane(h, 3);
      if (x < a) a = x;
      if (y > c) c = y;
    }
    lo = <f64>a;
    hi = <f64>c;
  }
  params(lo, hi, bits, sym);
  const inv = <f32>(1.0 / gScale);
  if (!(gZp == gZp) || !(inv < Infinity) || !(inv >= 1.17549435e-38)) return false;
  const zi = <i32>gZp;
  const iv = f32x4.splat(inv);
  const z = i32x4.splat(zi);
  const zero = i32x4.splat(0);
  const vmax = i32x4.splat(mx);
  let d = f32x4.splat(0);
  // 32 codes → 16 bytes at a time (bs = 16: 8 bytes)
  for (let i = 0; i < bs; i += 32) {
    let w0 = zero, w1 = zero;
    for (let h = 0; h < 2 && i + h * 16 < bs; h++) {
      const q = p + ((<usize>(i + h * 16)) << 2);
      const y0 = f32x4.mul(v128.load(q), iv), y1 = f32x4.mul(v128.load(q, 16), iv), y2 = f32x4.mul(v128.load(q, 32), iv), y3 = f32x4.mul(v128.load(q, 48), iv);
      const n0 = f32x4.nearest(y0), n1 = f32x4.nearest(y1), n2 = f32x4.nearest(y2), n3 = f32x4.nearest(y3);
      d = f32x4.max(d, f32x4.max(f32x4.max(dist(y0, n0), dist(y1, n1)), f32x4.max(dist(y2, n2), dist(y3, n3))));
      const clamp = !sym;
      const c16 = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(code4(n0, z, zero, vmax, clamp), code4(n1, z, zero, vmax, clamp)), i16x8.narrow_i32x4_u(code4(n2, z, zero, vmax, clamp), code4(n3, z, zero, vmax, clamp)));
      // u16 lane = code[2i] | code[2i+1] << 8 → code[2i] | code[2i+1] << 4
      const pk = v128.or(v128.and(c16, lowNib), v128.and(i16x8.shr_u(c16, 4), highNib));
      if (h == 0) w0 = pk;
      else w1 = pk;
    }
    const bytes = i8x16.narrow_i16x8_u(w0, w1);
    if (bs >= 32) v128.store(out + <usize>(i >> 1), bytes);
    else v128.store64_lane(out, bytes, 0);
  }
  if (!i32x4.all_true(f32x4.le(d, thr))) return false;
  store<f32>(sPtr, <f32>gScale);
  putZp(outZ, j, b, zpBytes, 4, zi);
  return true;
}
