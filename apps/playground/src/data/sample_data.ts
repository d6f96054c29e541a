/**
 * Seeded random inputs built from the model's input types, for fidelity checks of models that
 * come without data: floats uniform in [0, 1), integers in [0, 10), booleans 0/1.
 */
import type { EvalDataset, SampleData } from '@whittle/eval';
import { Rng } from '@whittle/tensor';
import type { IoInfo } from '../worker/protocol.js';

/** Length given to a symbolic dim after the batch dim (a sequence length, typically). */
export const SYMBOLIC_DIM_LENGTH = 16;

/**
 * Shape of one sample: the input's dims after the batch dim; symbolic ones ('sequence') get
 * {@link SYMBOLIC_DIM_LENGTH}.
 */
export function fixedSampleShape(input: IoInfo): number[] {
  if (!input.shape) throw new Error(`input '${input.name}' has no known shape; evaluate it on your own data`);
  return input.shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : SYMBOLIC_DIM_LENGTH));
}

function randomArray(type: string, n: number, rng: Rng): { data: SampleData; type?: string } {
  switch (type) {
    case 'float32':
      return { data: Float32Array.from({ length: n }, () => rng.next()) };
    case 'int32':
      return { data: Int32Array.from({ length: n }, () => rng.int(10)) };
    case 'int64':
      return { data: BigInt64Array.from({ length: n }, () => BigInt(rng.int(10))) };
    case 'int8':
      return { data: Int8Array.from({ length: n }, () => rng.int(10)) };
    case 'uint8':
      return { data: Uint8Array.from({ length: n }, () => rng.int(10)) };
    case 'bool':
      return { data: Uint8Array.from({ length: n }, () => rng.int(2)), type: 'bool' };
    default:
      throw new Error(`random sample data of element type ${type} is not supported; evaluate on your own data`);
  }
}

/** `count` seeded random samples for every input of the model. */
export function sampleDataset(inputs: readonly IoInfo[], count: number, seed = 0): EvalDataset {
  const rng = new Rng(seed);
  const ds: EvalDataset = { inputs: {} };
  for (const input of inputs) {
    const sampleShape = fixedSampleShape(input);
    const per = sampleShape.reduce((a, b) => a * b, 1);
    const { data, type } = randomArray(input.elemType, count * per, rng);
    ds.inputs[input.name] = { data, sampleShape, ...(type ? { type } : {}) };
  }
  return ds;
}
