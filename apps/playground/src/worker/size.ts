import { type SizeMetrics, measureSize, weightSparsity } from '@whittle/eval';
import { type Model, summarize } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { measureGzip, useNativeGzip } from '../analysis/gzip.js';

/**
 * @whittle/eval's measureSize; for models above the fflate limit the same metrics with the gzip
 * size from the browser's native zlib (pure-JS gzip costs seconds per 10 MB).
 */
export async function sizeOf(bytes: Uint8Array, parsed?: Model): Promise<{ size: SizeMetrics; gzipMethod: 'fflate' | 'native' }> {
  if (!useNativeGzip(bytes.length)) return { size: measureSize(bytes, parsed ? { model: parsed } : {}), gzipMethod: 'fflate' };
  const model = parsed ?? readModel(bytes, { validate: false });
  const s = summarize(model);
  const sp = weightSparsity(model);
  const gz = await measureGzip(bytes);
  return {
    size: { fileBytes: bytes.length, gzipBytes: gz.bytes, parameters: s.parameters, weightBytes: s.bytes, sparsity: sp.sparsity, zeroWeights: sp.zeros, flops: s.flops, macs: s.macs, assumedDims: s.assumedDims, byDtype: s.byDtype },
    gzipMethod: gz.method,
  };
}
