import type { Tensor } from '@whittle/tensor';
import type { Node } from '../ir/types.js';
import { LAYOUT_KERNELS } from './ops_layout.js';
import { type FoldKernel, MATH_KERNELS } from './ops_math.js';

/**
 * Evaluates one node on constant cpu tensors (missing optional inputs are undefined). Returns
 * one tensor per node output, or undefined when it cannot evaluate the node.
 */
export type ConstantEvaluator = (
  node: Node,
  inputs: (Tensor | undefined)[],
  info: { opset: number },
) => Promise<(Tensor | undefined)[] | undefined> | (Tensor | undefined)[] | undefined;

let plugged: ConstantEvaluator | undefined;

/**
 * Plug in an evaluator for ops the built-in folder does not know (the interpreter registers one).
 * Pass undefined to remove it. Returns the previous evaluator.
 */
export function setConstantEvaluator(fn: ConstantEvaluator | undefined): ConstantEvaluator | undefined {
  const prev = plugged;
  plugged = fn;
  return prev;
}

/** The evaluator set by {@link setConstantEvaluator}, if any. */
export function getConstantEvaluator(): ConstantEvaluator | undefined {
  return plugged;
}

const BUILTIN: Record<string, FoldKernel> = { ...MATH_KERNELS, ...LAYOUT_KERNELS };

/** Op types the built-in folder evaluates (default domain). */
export function builtinFoldOps(): string[] {
  return Object.keys(BUILTIN).sort();
}

/** Evaluate with the built-in kernels, then the plugged evaluator. */
export async function evaluateConstantNode(
  node: Node,
  inputs: (Tensor | undefined)[],
  opset: number,
  evaluator: ConstantEvaluator | undefined = plugged,
): Promise<(Tensor | undefined)[] | undefined> {
  const k = node.domain === '' || node.domain === 'ai.onnx' ? BUILTIN[node.opType] : undefined;
  const r = k?.(node, inputs, opset);
  if (r) return r;
  return evaluator ? await evaluator(node, inputs, { opset }) : undefined;
}
