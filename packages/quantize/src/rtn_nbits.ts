/**
 * Block-wise RTN of a whole in-memory weight through the MatMulNBits kernel (`nbits_kernel.ts`,
 * WASM SIMD where it runs): float32 in, packed MatMulNBits tensors out, no Float64 copy of the
 * weight and no code-per-byte array. The result is a {@link QuantizedWeight} equal to
 * `quantizeRtn` on the canonical weight: its `packed` tensors are what `packMatMulNBits` (and, for
 * a width that is a multiple of the block size, `packGatherBlock`) would write, and its `codes`
 * are unpacked from them only when a form that needs them (DequantizeLinear) reads them.
 *
 * The kernel serves block granularity with a power-of-two block size >= 16 on 2-D weights (MatMul
 * and Gemm B, Gather tables); everything else (per-channel / per-tensor scales, Conv weights,
 * other block sizes) goes through `quantizeRtn` on the canonical float64 weight as before.
 */
import { columnErrors, meanOfSums, rowErrors } from './nbits_error.js';
import { type NBitsSpec, quantizeColumnsNBits, quantizeRowsNBits } from './nbits_kernel.js';
import { rowwiseMse } from './quant_math.js';
import { type QuantizedWeight, type RtnSpec, type WeightSite, canonical, dequantizeWeight, quantizeRtn } from './weights.js';

type Layout = Pick<WeightSite, 'rowAxis' | 'rows' | 'cols' | 'shape'>;

/** Whether the MatMulNBits kernel can quantize `site` with `spec` (else `quantizeRtn` does). */
export function kernelServes(site: Layout, spec: RtnSpec): boolean {
  const bs = spec.blockSize;
  return (
    spec.granularity === 'block' && site.shape.length === 2 && (site.rowAxis === 0 || site.rowAxis === 1) &&
    Number.isInteger(spec.bits) && spec.bits >= 2 && spec.bits <= 8 &&
    Number.isInteger(bs) && bs >= 16 && (bs & (bs - 1)) === 0
  );
}

/**
 * `quantizeRtn(canonical(site, values), site.rows, site.cols, spec)` by the kernel, same bytes.
 * `values` is the weight in its native layout. Only for sites {@link kernelServes} accepts. With
 * `sse` ([rows]), each canonical row's sum of squared errors goes to `sse[n]` (see nbits_error.ts).
 */
export function quantizeWithKernel(site: Layout, values: Float32Array, spec: RtnSpec, sse?: Float64Array): QuantizedWeight {
  const { rows: N, cols: K } = site;
  const bs = spec.blockSize;
  const container = spec.bits <= 4 ? 4 : 8;
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  const B = new Uint8Array(N * nb * blob);
  const scales = new Float32Array(N * nb);
  const zps = new Uint8Array(N * zpBytes);
  const ns: NBitsSpec = { bits: spec.bits, symmetric: spec.symmetric, blockSize: bs, container };
  // canonical rows are MatMulNBits' columns: B's columns of a native [K, N], rows of a native [N, K]
  if (site.rowAxis === 1) quantizeColumnsNBits(values, K, N, 0, N, ns, new Float32Array(0), B, scales, zps, sse);
  else quantizeRowsNBits(values, K, 0, N, ns, B, scales, zps, sse);
  const zeroPoints = new Uint8Array(N * nb);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) zeroPoints[n * nb + b] = container === 4 ? (zps[n * zpBytes + (b >> 1)]! >> ((b & 1) * 4)) & 15 : zps[n * zpBytes + b]!;
  }
  let codes: Uint8Array | undefined;
  const q = { rows: N, cols: K, bits: spec.bits, symmetric: spec.symmetric, granularity: 'block' as const, blockSize: bs, scales, zeroPoints, packed: { container, B, zeroPoints: zps } };
  // codes [rows, cols] only when read (DequantizeLinear, GatherBlockQuantized of a ragged width)
  return Object.defineProperty(q, 'codes', {
    get: () => (codes ??= unpackCodes(B, N, K, bs, container)),
    set: (v: Uint8Array) => void (codes = v),
    enumerable: true,
    configurable: true,
  }) as QuantizedWeight;
}

/** Codes [N, K] of packed MatMulNBits blocks [N, nb, blob] (padding dropped). */
function unpackCodes(B: Uint8Array, N: number, K: number, bs: number, container: 4 | 8): Uint8Array {
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const codes = new Uint8Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const src = (n * nb + b) * blob;
      const dst = n * K + b * bs;
      const full = Math.min(bs, K - b * bs);
      if (container === 8) codes.set(B.subarray(src, src + full), dst);
      else for (let t = 0; t < full; t++) codes[dst + t] = (B[src + (t >> 1)]! >> ((t & 1) * 4)) & 15;
    }
  }
  return codes;
}

/**
 * The weight MSE of a `q` from {@link quantizeWithKernel}, by the JS reference (nbits_error.ts) from
 * the packed codes and the float32 weight: {@link rowwiseMse}`(canonical(site, values),
 * dequantizeWeight(q), N, K)` — per canonical row a float64 sum in order, the row sums added in
 * row order — without the two Float64 copies. The kernel's own errors give the same number.
 */
export function packedMse(site: Layout, values: Float32Array, q: QuantizedWeight): number {
  const { container, B, zeroPoints: zps } = q.packed!;
  const { rows: N, cols: K, blockSize: bs, scales } = q;
  const sse = new Float64Array(N);
  if (site.rowAxis === 1) columnErrors(values, K, N, 0, N, bs, container, B, scales, zps, sse);
  else rowErrors(values, K, 0, N, bs, container, B, scales, zps, sse);
  return meanOfSums(sse, N * K);
}

/**
 * RTN of one weight site with `spec`: by the MatMulNBits kernel where it serves, else
 * `quantizeRtn` on the canonical float64 weight. `withMse` also returns the weight's mean squared
 * quantization error, `rowwiseMse(canonical, dequantizeWeight(q), rows, cols)` (summed per
 * canonical row, then over rows; the kernel adds each row's errors while it quantizes).
 */
export function quantizeSiteRtn(site: Layout, values: Float32Array, spec: RtnSpec, withMse = false): { q: QuantizedWeight; mse: number } {
  if (kernelServes(site, spec)) {
    const sse = withMse ? new Float64Array(site.rows) : undefined;
    const q = quantizeWithKernel(site, values, spec, sse);
    return { q, mse: sse ? meanOfSums(sse, site.rows * site.cols) : NaN };
  }
  const w = canonical(site, values);
  const q = quantizeRtn(w, site.rows, site.cols, spec);
  return { q, mse: withMse ? rowwiseMse(w, dequantizeWeight(q), site.rows, site.cols) : NaN };
}
