import type { Tensor } from '../tensor.js';

/**
 * One recorded operation on the autograd tape: made by `runKernel` (or a view op) when an input
 * requires grad. The chain of nodes reachable from a loss is the tape `backward()` replays.
 */
export interface GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/** Context handed to a gradient function. */
export interface GradContext {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * A gradient: given the upstream gradients of each output (null where an output got none),
 * returns the gradient of each input (null/undefined for non-differentiable inputs). Written
 * with forward ops, so every backend gets gradients without backward kernels.
 */
export type GradFn = (dys: readonly (Tensor | null)[], ctx: GradContext) => readonly (Tensor | null | undefined)[];
