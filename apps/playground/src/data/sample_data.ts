/**
 * Seeded random inputs for models that come without data, made by @whittle/eval's
 * `syntheticSource` (what the CLI's data-free runs use): floats uniform in [0, 1), integers in
 * [0, 10), dims the model leaves open sized for what they are (1 for a batch axis, 512 samples
 * for a signal, or the first doubling the model's strided layers accept, an empty key/value cache,
 * 16 otherwise), recurrent state and scalar mode
 * switches (a sample rate drawn from the constants the graph compares it with) shaped as the
 * model declares them.
 */
import { type EvalDataset, syntheticSource } from '@whittle/eval';
import type { IoInfo } from '../worker/protocol.js';
import { datasetFromSource, inputSpecs } from './source_dataset.js';

const SUPPORTED = new Set(['float32', 'float16', 'int8', 'uint8', 'int32', 'int64', 'bool']);

/** `count` seeded random samples for every input of the model, with how the open dims were sized. */
export async function sampleDataset(inputs: readonly IoInfo[], count: number, seed = 0): Promise<{ dataset: EvalDataset; description: string }> {
  for (const i of inputs) {
    if (!SUPPORTED.has(i.elemType)) throw new Error(`random sample data of element type ${i.elemType} (input '${i.name}') is not supported; evaluate on your own data`);
    if (!i.shape) throw new Error(`input '${i.name}' has no known shape; evaluate it on your own data`);
  }
  const specs = inputSpecs(inputs);
  const source = syntheticSource(specs, { count, seed, distribution: 'uniform' });
  const { dataset } = await datasetFromSource(source, specs, count);
  return { dataset, description: source.description };
}
