import type { Tensor } from '@whittle/tensor';
import type { OpContext } from './context.js';
import type { RuntimeValue } from './value.js';

/**
 * An ONNX op implementation on tensor ops. Inputs are positional (undefined for a missing
 * optional input); returns the outputs in order (undefined for outputs it does not produce).
 */
export type OpImpl = (inputs: readonly (Tensor | undefined)[], ctx: OpContext) => Promise<(Tensor | undefined)[]> | (Tensor | undefined)[];

/**
 * An op implementation over any runtime values (tensors, sequences, optionals): the sequence
 * and optional ops, and control flow / Identity that pass such values through.
 */
export type ValueOpImpl = (
  inputs: readonly (RuntimeValue | undefined)[],
  ctx: OpContext,
) => Promise<(RuntimeValue | undefined)[]> | (RuntimeValue | undefined)[];

const ops = new Map<string, OpImpl>();
const valueOps = new Map<string, ValueOpImpl>();

const key = (domain: string, opType: string): string => `${normalizeDomain(domain)}::${opType}`;

/** '' and 'ai.onnx' are the same default domain. */
export function normalizeDomain(domain: string | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

/** Register the implementation of `opType` in `domain` ('' = default ONNX domain). */
export function registerOp(opType: string, impl: OpImpl, domain = ''): void {
  valueOps.delete(key(domain, opType));
  ops.set(key(domain, opType), impl);
}

/** Register an implementation of `opType` that takes and returns any runtime values (see {@link ValueOpImpl}). */
export function registerValueOp(opType: string, impl: ValueOpImpl, domain = ''): void {
  ops.delete(key(domain, opType));
  valueOps.set(key(domain, opType), impl);
}

/** The tensor implementation of `opType` (undefined for value ops, see {@link getValueOp}). */
export function getOp(opType: string, domain = ''): OpImpl | undefined {
  return ops.get(key(domain, opType));
}

/** The value implementation of `opType`, when it was registered with {@link registerValueOp}. */
export function getValueOp(opType: string, domain = ''): ValueOpImpl | undefined {
  return valueOps.get(key(domain, opType));
}

/** Sorted list of `domain::op` the interpreter runs. */
export function listOps(): string[] {
  return [...ops.keys(), ...valueOps.keys()].sort();
}
