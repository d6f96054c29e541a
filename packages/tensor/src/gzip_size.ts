import { gzipSync } from 'fflate';

/**
 * The one gzip level of Whittle's size reports (@whittle/eval's `measureSize`, @whittle/prune's
 * `sparsityReport`, the CLI and the playground). Level 9 spends ~6x the time of level 6 on pruned
 * weights (long hash chains through the runs of zero bytes) for sizes under 0.2 % smaller: the
 * 26M-parameter decoder's weights at 50 % magnitude 57,172,728 (level 9, 31 s) vs 57,206,827 bytes
 * (level 6, 4.7 s); Wanda, 2:4 and SparseGPT +0.16 to +0.18 %; dense weights the same size.
 * Very sparse weights lose more: the demo's LeNet-300-100 at 95 % sparsity is 127,627 bytes at
 * level 6 vs 118,516 at level 9 (+7.7 %; its clustered form +0.13 %, the dense model +0 %).
 * Level 6 is also zlib's default, what a web server's gzip typically sends.
 */
export const GZIP_LEVEL = 6;

/**
 * gzip-compressed size of `bytes` at {@link GZIP_LEVEL}: the length of a complete gzip stream
 * made by fflate (pure JS, so the same bytes in Node and every browser, unlike the platform's
 * CompressionStream).
 */
export function gzipSize(bytes: Uint8Array): number {
  return gzipSync(bytes, { level: GZIP_LEVEL }).length;
}
