import type { Tensor } from '@whittle/tensor';

/** A sequence value at run time (ONNX `seq(tensor)`): an ordered list of tensors. */
export interface RuntimeSequence {
  readonly kind: 'sequence';
  readonly items: readonly Tensor[];
}

/** An optional value at run time (ONNX `optional(...)`): a tensor, a sequence, or none (`null`). */
export interface RuntimeOptional {
  readonly kind: 'optional';
  readonly value: Tensor | RuntimeStrings | RuntimeSequence | null;
}

/**
 * A string tensor at run time (ONNX `tensor(string)`): row-major elements as raw bytes (ONNX
 * strings are byte strings, compared byte for byte). String tensors live on the host on every
 * backend, as in onnxruntime; ops over them return numeric results on the chosen backend.
 */
export interface RuntimeStrings {
  readonly kind: 'strings';
  readonly shape: readonly number[];
  readonly values: readonly Uint8Array[];
}

/** Any value the interpreter passes between nodes: a tensor, a string tensor, a sequence or an optional. */
export type RuntimeValue = Tensor | RuntimeStrings | RuntimeSequence | RuntimeOptional;

/** True when `v` is a sequence value. */
export function isSequence(v: RuntimeValue | undefined): v is RuntimeSequence {
  return v !== undefined && (v as { kind?: unknown }).kind === 'sequence';
}

/** True when `v` is an optional value. */
export function isOptional(v: RuntimeValue | undefined): v is RuntimeOptional {
  return v !== undefined && (v as { kind?: unknown }).kind === 'optional';
}

/** True when `v` is a string tensor. */
export function isStrings(v: RuntimeValue | undefined): v is RuntimeStrings {
  return v !== undefined && (v as { kind?: unknown }).kind === 'strings';
}

/** True when `v` is a plain (numeric or bool) tensor. */
export function isTensor(v: RuntimeValue | undefined): v is Tensor {
  return v !== undefined && !isSequence(v) && !isOptional(v) && !isStrings(v);
}

/** Every tensor held by `v` (itself, a sequence's items, an optional's element). */
export function tensorsOf(v: RuntimeValue): Tensor[] {
  if (isSequence(v)) return [...v.items];
  if (isOptional(v)) return v.value ? tensorsOf(v.value) : [];
  if (isStrings(v)) return [];
  return [v];
}

/** A short description of a value's kind, for error messages. */
export function kindOf(v: RuntimeValue): string {
  if (isSequence(v)) return `sequence of ${v.items.length}`;
  if (isOptional(v)) return v.value ? 'optional (present)' : 'optional (empty)';
  if (isStrings(v)) return `string tensor [${v.shape.join(',')}]`;
  return `tensor ${v.dtype} [${v.shape.join(',')}]`;
}
