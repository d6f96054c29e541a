import type { Tensor } from '../tensor.js';
import type { OpAttrs, OpName } from '../kernel_names.js';

/**
 * One recorded operation on the autograd tape: made by `runKernel` (or a view op) when an input
 * requires grad. The chain of nodes reachable from a loss is the tape `backward()` replays.
 */
export interface GradNode {
  readonly name: OpName;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: OpAttrs[OpName];
}

/** Context handed to the gradient of op `N`: its attributes are typed by the kernel contract. */
export interface GradContext<N extends OpName = OpName> {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: OpAttrs[N];
}

/**
 * A gradient: given the upstream gradients of each output (null where an output got none),
 * returns the gradient of each input (null/undefined for non-differentiable inputs). Written
 * with forward ops, so every backend gets gradients without backward kernels.
 */
export type GradFn<N extends OpName = OpName> = (dys: readonly (Tensor | null)[], ctx: GradContext<N>) => readonly (Tensor | null | undefined)[];

/** Gradients by op name, each typed by its op's attributes (what a family registers). */
export type GradientTable = { readonly [N in OpName]?: GradFn<N> };
