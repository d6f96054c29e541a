// AssemblyScript source of the WASM SIMD sgemm macro-kernel (f32x4), built twice: plain SIMD and
// relaxed SIMD (fused multiply-add).
// Build: `pnpm --filter @whittle/tensor build:wasm` (scripts/build-wasm.mjs) regenerates
// sgemm_bytes.ts (both modules). The file ends in .as so tsc ignores it; the script compiles a .ts copy.
//
// Memory is owned by the JS side (sgemm_wasm.ts), which packs operands into linear memory:
//   A block: MR-row panels, panel p at pa + p*kc*MR*4 bytes, element (r, k) at k*MR + r;
//   B block: NR-column panels, panel q at pb + q*kc*NR*4 bytes, element (k, c) at k*NR + c;
// and calls macro() to accumulate C[mc × nc] += A·B into row-major C (ldc floats per row), or with
// acc = 0 to overwrite C = A·B (the first K block of a product into a fresh C: no copy-in of zeros).

// @ts-nocheck

/** Tile rows: 5 in the relaxed-SIMD build (see micro), 4 in the plain build, whose mul + add
 * pairs already fill the float pipes and lose ~2 % to micro's lane shuffles. */
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 5 : 4;
const NR: i32 = 8;
/** Rows of B packed per sweep across its panels (packB). */
const KB: i32 = 8;

/** c + a*b: one fused multiply-add where the relaxed-SIMD build can use the hardware's FMA
 * (f32x4.relaxed_madd; halves the arithmetic instructions of the inner loop), else mul + add.
 * The branch is resolved at compile time: the build emits one module per feature set. */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** 5×8 register tile of the relaxed-SIMD build: 10 f32x4 accumulators, two B vectors, rows 0-3
 * of A's column as one vector (each row broadcast by a lane shuffle) and row 4 broadcast from
 * memory: 14 of the 15 xmm registers V8 allocates. V8 hoists every load of an iteration above
 * its arithmetic, so all loaded values are live at once: five broadcast loads (or a 6×8 / 4×12
 * tile, or unrolling k) spill, and 4×8 leaves the two FMA pipes only 8 independent chains
 * (~53 against ~56 GFLOP/s on an AMD EPYC whose 128-bit peak is ~58).
 * Each C element still gets one multiply-add per k, in k order, into its own accumulator. */
@inline
function micro(pa: usize, pb: usize, kc: i32, c: usize, ldcB: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  const end = pb + <usize>kc * <usize>(NR * 4);
  for (; pb < end; pb += NR * 4, pa += MR * 4) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const a4 = v128.load(pa);
    let a = i32x4.shuffle(a4, a4, 0, 0, 0, 0);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = i32x4.shuffle(a4, a4, 1, 1, 1, 1);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = i32x4.shuffle(a4, a4, 2, 2, 2, 2);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = i32x4.shuffle(a4, a4, 3, 3, 3, 3);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
  }
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c00) : c00, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c01) : c01, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c10) : c10, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c11) : c11, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c20) : c20, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c21) : c21, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c30) : c30, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c31) : c31, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c40) : c40, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c41) : c41, 16);
}

/** 4×8 tile on rows 0-3 of an MR-row panel, each row broadcast from memory (8 accumulators,
 * 14 registers): the plain build's tile, and in the relaxed build the last panel of a block
 * when it has at most four rows (no wasted fifth row). Same per-element arithmetic as micro. */
@inline
function micro4(pa: usize, pb: usize, kc: i32, c: usize, ldcB: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pb + <usize>kc * <usize>(NR * 4);
  for (; pb < end; pb += NR * 4, pa += MR * 4) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
  }
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c00) : c00, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c01) : c01, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c10) : c10, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c11) : c11, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c20) : c20, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c21) : c21, 16);
  c += ldcB;
  v128.store(c, acc ? f32x4.add(v128.load(c, 0), c30) : c30, 0);
  v128.store(c, acc ? f32x4.add(v128.load(c, 16), c31) : c31, 16);
}

/** Register tile rows (the JS side packs A panels of this height). */
export function mr(): i32 {
  return MR;
}

/** Register tile columns (the JS side packs B panels of this width). */
export function nr(): i32 {
  return NR;
}

/** Add (or with add = false, copy) the top-left rows × cols of the MR×NR tile at scratch into C. */
function flush(scratch: usize, rows: i32, cols: i32, cp: usize, ldcB: usize, add: bool): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const dst = cp + <usize>i * ldcB + ((<usize>j) << 2);
      const v = load<f32>(scratch + ((<usize>(i * NR + j)) << 2));
      store<f32>(dst, add ? load<f32>(dst) + v : v);
    }
  }
}

/**
 * C[mc × nc] += packed A block × packed B block (acc = 0: C = A·B, C's old values unread). Edge
 * tiles go through `scratch` (MR*NR floats) so panels can stay zero-padded and the tile code
 * branch-free.
 */
export function macro(mc: i32, nc: i32, kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, scratch: usize, acc: i32): void {
  const add = acc != 0;
  const ldcB = (<usize>ldc) << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const bp = pb + ((<usize>jr * <usize>kc) << 2);
    const cols = min(NR, nc - jr);
    for (let ir = 0; ir < mc; ir += MR) {
      const ap = pa + ((<usize>ir * <usize>kc) << 2);
      const rows = min(MR, mc - ir);
      const cp = c + <usize>ir * ldcB + ((<usize>jr) << 2);
      if (MR == 5 && rows == MR) {
        if (cols == NR) {
          micro(ap, bp, kc, cp, ldcB, add);
        } else {
          micro(ap, bp, kc, scratch, <usize>(NR * 4), false);
          flush(scratch, rows, cols, cp, ldcB, add);
        }
      } else if (rows == 4 && cols == NR) {
        micro4(ap, bp, kc, cp, ldcB, add);
      } else {
        micro4(ap, bp, kc, scratch, <usize>(NR * 4), false);
        flush(scratch, rows, cols, cp, ldcB, add);
      }
    }
  }
}

/**
 * Pack rows [0, mc) × cols [0, kc) of A (element (i, k) at src + (i*rs + k*cs)*4) into MR-row
 * panels scaled by alpha; rows past mc are zero.
 */
export function packA(src: usize, rs: i32, cs: i32, mc: i32, kc: i32, alpha: f32, dst: usize): void {
  const av = f32x4.splat(alpha);
  for (let p = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    if (rows == MR && cs == 1) {
      // row-major A: 4 k-values of each row as vectors; rows 0-3 are transposed 4×4, a fifth
      // row is stored lane by lane
      const r0 = src + ((<usize>(p * rs)) << 2);
      const step = (<usize>rs) << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4, dst += 16 * MR) {
        const s = r0 + ((<usize>k) << 2);
        const x0 = f32x4.mul(av, v128.load(s));
        const x1 = f32x4.mul(av, v128.load(s + step));
        const x2 = f32x4.mul(av, v128.load(s + 2 * step));
        const x3 = f32x4.mul(av, v128.load(s + 3 * step));
        const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
        const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
        const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
        const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
        v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
        v128.store(dst + 4 * MR, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
        v128.store(dst + 8 * MR, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
        v128.store(dst + 12 * MR, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
        if (MR == 5) {
          const x4 = f32x4.mul(av, v128.load(s + 4 * step));
          store<f32>(dst, f32x4.extract_lane(x4, 0), 16);
          store<f32>(dst, f32x4.extract_lane(x4, 1), 36);
          store<f32>(dst, f32x4.extract_lane(x4, 2), 56);
          store<f32>(dst, f32x4.extract_lane(x4, 3), 76);
        }
      }
      for (; k < kc; k++, dst += 4 * MR) {
        const s = r0 + ((<usize>k) << 2);
        for (let r = 0; r < MR; r++) store<f32>(dst + ((<usize>r) << 2), alpha * load<f32>(s + <usize>r * step));
      }
      continue;
    }
    if (rows == MR && rs == 1) {
      // A stored transposed (a gradient's Wᵀ): the MR rows of column k are adjacent floats
      let s = src + ((<usize>p) << 2);
      const step = (<usize>cs) << 2;
      for (let k = 0; k < kc; k++, s += step, dst += 4 * MR) {
        v128.store(dst, f32x4.mul(av, v128.load(s)));
        if (MR == 5) store<f32>(dst, alpha * load<f32>(s, 16), 16);
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < MR; r++) {
        let v: f32 = 0;
        if (r < rows) v = alpha * load<f32>(src + ((<usize>((p + r) * rs + k * cs)) << 2));
        store<f32>(dst, v);
        dst += 4;
      }
    }
  }
}

/** Four columns × four k of B (column c's k-values at s + c*cstep) → rows k..k+3 of an NR-wide
 * panel at dst (row stride NR floats), columns 0..3 of the half it starts at. */
@inline
function transpose4(dst: usize, s: usize, cstep: usize): void {
  const r0 = v128.load(s);
  const r1 = v128.load(s + cstep);
  const r2 = v128.load(s + 2 * cstep);
  const r3 = v128.load(s + 3 * cstep);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  const row = (<usize>NR) << 2;
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + row, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * row, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * row, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

/**
 * Pack rows [0, kc) × cols [0, nc) of B (element (k, j) at src + (k*rs + j*cs)*4) into
 * NR-column panels; columns past nc are zero.
 */
export function packB(src: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  let q0 = 0;
  if (cs == 1) {
    // row-major B: a few rows at a time, each read left to right across all full panels, so
    // every row is a sequential stream the prefetcher follows (a panel at a time would read one
    // 32-byte piece from each of kc rows a page or more apart: a cache and TLB miss apiece)
    const full = nc - nc % NR;
    const panelB = <usize>kc * <usize>(NR * 4);
    for (let k0 = 0; k0 < kc; k0 += KB) {
      const k1 = min(kc, k0 + KB);
      for (let q = 0; q < full; q += NR) {
        let d = dst + <usize>(q / NR) * panelB + <usize>k0 * <usize>(NR * 4);
        let s = src + ((<usize>(k0 * rs + q)) << 2);
        const step = (<usize>rs) << 2;
        for (let k = k0; k < k1; k++, s += step, d += NR * 4) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        }
      }
    }
    q0 = full;
    dst += <usize>(full / NR) * panelB;
  }
  for (let q = q0; q < nc; q += NR) {
    const cols = min(NR, nc - q);
    if (cols == NR && rs == 1) {
      // B stored transposed (a weight gradient's colᵀ): read 4 k-values of each of the 8 columns
      // as vectors and transpose 4×4 blocks, instead of 8 scalar gathers per k
      const c0 = src + ((<usize>(q * cs)) << 2);
      const cstep = (<usize>cs) << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const s = c0 + ((<usize>k) << 2);
        transpose4(dst, s, cstep);
        transpose4(dst + 16, s + 4 * cstep, cstep);
        dst += 128;
      }
      for (; k < kc; k++) {
        for (let c = 0; c < NR; c++) store<f32>(dst + ((<usize>c) << 2), load<f32>(c0 + <usize>c * cstep + ((<usize>k) << 2)));
        dst += 32;
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      for (let c = 0; c < NR; c++) {
        let v: f32 = 0;
        if (c < cols) v = load<f32>(src + ((<usize>(k * rs + (q + c) * cs)) << 2));
        store<f32>(dst, v);
        dst += 4;
      }
    }
  }
}
