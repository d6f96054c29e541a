/**
 * gzip sizes for the page. Up to {@link FFLATE_LIMIT} bytes: @whittle/eval's gzipSize (fflate at
 * the shared level 6, as the CLI's reports measure files). Above it, where pure-JS gzip costs
 * seconds per 10 MB (more on a busy machine), the runtime's native CompressionStream (zlib's
 * default level, also 6; the two deflaters' sizes differ by a few %), when there is one.
 */
import { gzipSize } from '@whittle/eval';

/**
 * Weight bytes above which the per-layer gzip sizes are not measured when a model is analyzed:
 * zlib gets ~20-40 MB/s on float weights, so a 100 MB model would pay seconds for the layer table's
 * gzip column on top of the file's own gzip size (which is always measured).
 */
export const LAYER_GZIP_LIMIT = 16e6;

/** Largest input measured with fflate (in the worker, pure JS). */
export const FFLATE_LIMIT = 4 * 2 ** 20;

/** How a size was measured, for notes on the page and in reports. */
export type GzipMethod = 'fflate' | 'native';

async function nativeGzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  const reader = stream.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.byteLength;
  }
}

/** Whether a model of `total` bytes gets native gzip sizes (also for its parts, so they add up alike). */
export function useNativeGzip(total: number): boolean {
  return total > FFLATE_LIMIT && typeof CompressionStream === 'function';
}

/** gzip size of `bytes` and how it was measured; `total` (default: its own length) picks the method. */
export async function measureGzip(bytes: Uint8Array, total = bytes.length): Promise<{ bytes: number; method: GzipMethod }> {
  if (useNativeGzip(total)) return { bytes: await nativeGzipSize(bytes), method: 'native' };
  return { bytes: gzipSize(bytes), method: 'fflate' };
}
