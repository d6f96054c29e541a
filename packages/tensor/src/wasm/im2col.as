// AssemblyScript source of the WASM im2col (window unfold) and col2im (its adjoint, the fold)
// used by the cpu Im2Col and 2-D Col2Im kernels.
// Build: `pnpm --filter @whittle/tensor build:wasm` (scripts/build-wasm.mjs) regenerates
// im2col_bytes.ts. The file ends in .as so tsc ignores it; the script compiles a .ts copy.
//
// It shares the sgemm module's linear memory (the JS side, im2col_wasm.ts, stages one image
// [C, H, W] contiguous at `src` and reads the columns [C*kh*kw, OH*OW] back from `dst`). Why
// WASM: V8's code for the short per-row copy loops in JS ran at several ns per element, slower
// than the GEMM that follows; here a unit-stride row is a few SIMD moves.

// @ts-nocheck

/** Copy `bytes` (a multiple of 4) from s to d (not overlapping). Short rows use SIMD moves:
 * V8 runs memory.copy as a call into the runtime, whose cost dominated 20-float rows (LeNet). */
@inline
function copyRow(d: usize, s: usize, bytes: usize): void {
  if (bytes >= 256) {
    memory.copy(d, s, bytes);
    return;
  }
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(d + i, v128.load(s + i));
  for (; i < bytes; i += 4) store<f32>(d + i, load<f32>(s + i));
}

/** Zero `bytes` (a multiple of 4) at d; short runs inline as copyRow. */
@inline
function zeroRow(d: usize, bytes: usize): void {
  if (bytes >= 256) {
    memory.fill(d, 0, bytes);
    return;
  }
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(d + i, i64x2.splat(0));
  for (; i < bytes; i += 4) store<f32>(d + i, 0);
}

/**
 * Unfold image [C, H, W] (contiguous, at byte `src`) into col [C*kh*kw, OH*OW] at byte `dst`,
 * row (c*kh + i)*kw + j; taps in the padding are written as zeros (dst is not pre-zeroed).
 */
export function im2col(src: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, OH: i32, OW: i32, dst: usize): void {
  const L = <usize>(OH * OW);
  const rowB = (<usize>OW) << 2;
  for (let c = 0; c < C; c++) {
    const base = src + ((<usize>(c * H * W)) << 2);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const shift = j * dw - pl; // iw = ow*sw + shift
        const lo = shift < 0 ? min(OW, (-shift + sw - 1) / sw) : 0;
        const hi = max(lo, min(OW, (W - shift + sw - 1) / sw));
        for (let oh = 0; oh < OH; oh++) {
          const d = dst + ((<usize>oh * <usize>OW) << 2);
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H || lo >= hi) {
            zeroRow(d, rowB);
            continue;
          }
          if (lo > 0) zeroRow(d, (<usize>lo) << 2);
          if (hi < OW) zeroRow(d + ((<usize>hi) << 2), (<usize>(OW - hi)) << 2);
          let s = base + ((<usize>(ih * W + lo * sw + shift)) << 2);
          if (sw == 1) {
            copyRow(d + ((<usize>lo) << 2), s, (<usize>(hi - lo)) << 2);
          } else {
            const step = (<usize>sw) << 2;
            for (let ow = lo; ow < hi; ow++, s += step) store<f32>(d + ((<usize>ow) << 2), load<f32>(s));
          }
        }
        dst += L << 2;
      }
    }
  }
}

/**
 * The adjoint of im2col: fold col [C*kh*kw, OH*OW] at byte `src` into image [C, H, W] at byte
 * `dst`, summing overlapping taps (dst is zeroed first).
 */
export function col2im(src: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, OH: i32, OW: i32, dst: usize): void {
  memory.fill(dst, 0, (<usize>(C * H * W)) << 2);
  const L = <usize>(OH * OW);
  for (let c = 0; c < C; c++) {
    const base = dst + ((<usize>(c * H * W)) << 2);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const shift = j * dw - pl;
        const lo = shift < 0 ? min(OW, (-shift + sw - 1) / sw) : 0;
        const hi = max(lo, min(OW, (W - shift + sw - 1) / sw));
        for (let oh = 0; oh < OH && lo < hi; oh++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) continue;
          let s = src + ((<usize>(oh * OW + lo)) << 2);
          let d = base + ((<usize>(ih * W + lo * sw + shift)) << 2);
          if (sw == 1) {
            const end = s + ((<usize>(hi - lo)) << 2);
            for (; s + 16 <= end; s += 16, d += 16) v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
            for (; s < end; s += 4, d += 4) store<f32>(d, load<f32>(d) + load<f32>(s));
          } else {
            const step = (<usize>sw) << 2;
            for (let ow = lo; ow < hi; ow++, s += 4, d += step) store<f32>(d, load<f32>(d) + load<f32>(s));
          }
        }
        src += L << 2;
      }
    }
  }
}
