import { type SizeMetrics, computedWeightNames, measureSize, weightDecoder, weightSparsity, withDecodedWeights } from '@whittle/eval';
import { type Model, runModel, summarize } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { measureGzip, useNativeGzip } from '../analysis/gzip.js';

/**
 * The model with the weights its graph decodes from constants (Deep Compression's sparse streams)
 * computed by Whittle's interpreter, so parameters and sparsity count what the layers compute with.
 */
async function decodedWeights(model: Model): Promise<Model | undefined> {
  const names = computedWeightNames(model.graph);
  if (!names.length) return undefined;
  try {
    const values = await runModel(weightDecoder(model, names), {}, { backend: 'cpu' });
    return withDecodedWeights(model, new Map(names.map((n) => [n, values.get(n)!])));
  } catch {
    return undefined; // counted as stored
  }
}

/**
 * @whittle/eval's measureSize; for models above the fflate limit the same metrics with the gzip
 * size from the browser's native zlib (pure-JS gzip costs seconds per 10 MB).
 */
export async function sizeOf(bytes: Uint8Array, parsed?: Model): Promise<{ size: SizeMetrics; gzipMethod: 'fflate' | 'native' }> {
  const model = parsed ?? readModel(bytes, { validate: false });
  const weightsModel = await decodedWeights(model);
  if (!useNativeGzip(bytes.length)) return { size: measureSize(bytes, { model, ...(weightsModel ? { weightsModel } : {}) }), gzipMethod: 'fflate' };
  const s = summarize(model);
  const sp = weightSparsity(weightsModel ?? model);
  const parameters = weightsModel ? summarize(weightsModel).parameters : s.parameters;
  const gz = await measureGzip(bytes);
  return {
    size: { fileBytes: bytes.length, gzipBytes: gz.bytes, parameters, weightBytes: s.bytes, sparsity: sp.sparsity, zeroWeights: sp.zeros, flops: s.flops, macs: s.macs, assumedDims: s.assumedDims, byDtype: s.byDtype },
    gzipMethod: gz.method,
  };
}
