import type { Tensor } from '@whittle/tensor';
import type { OpContext } from './context.js';

/**
 * An ONNX op implementation on tensor ops. Inputs are positional (undefined for a missing
 * optional input); returns the outputs in order (undefined for outputs it does not produce).
 */
export type OpImpl = (inputs: readonly (Tensor | undefined)[], ctx: OpContext) => Promise<(Tensor | undefined)[]> | (Tensor | undefined)[];

const ops = new Map<string, OpImpl>();

const key = (domain: string, opType: string): string => `${normalizeDomain(domain)}::${opType}`;

/** '' and 'ai.onnx' are the same default domain. */
export function normalizeDomain(domain: string | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

/** Register the implementation of `opType` in `domain` ('' = default ONNX domain). */
export function registerOp(opType: string, impl: OpImpl, domain = ''): void {
  ops.set(key(domain, opType), impl);
}

export function getOp(opType: string, domain = ''): OpImpl | undefined {
  return ops.get(key(domain, opType));
}

/** Sorted list of `domain::op` the interpreter runs. */
export function listOps(): string[] {
  return [...ops.keys()].sort();
}
