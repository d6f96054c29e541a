import { type ConvNetSpec, type MlpSpec, type Model, convNetTemplate, mlpTemplate } from '@whittle/graph';
import { ArgumentError, Rng } from '@whittle/tensor';

/** A student described compactly instead of given as a graph (see `mlpTemplate`, `convNetTemplate`). */
export type StudentSpec = { mlp: MlpSpec } | { convNet: ConvNetSpec };

/** Whether `s` is a {@link StudentSpec} rather than a model. */
export function isStudentSpec(s: Model | StudentSpec): s is StudentSpec {
  return 'mlp' in s || 'convNet' in s;
}

/** Build a freshly initialized student graph from a spec (weights from `seed`). */
export function buildStudent(spec: StudentSpec, seed = 0): Model {
  const rng = new Rng(seed);
  if ('mlp' in spec) return mlpTemplate(spec.mlp, rng);
  if ('convNet' in spec) return convNetTemplate(spec.convNet, rng);
  throw new ArgumentError("buildStudent: a student spec is { mlp: MlpSpec } or { convNet: ConvNetSpec }");
}
