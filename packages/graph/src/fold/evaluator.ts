import { type Tensor, WhittleError } from '@whittle/tensor';
import type { Node } from '../ir/types.js';
import { attributeAccessors, type OpContext } from '../interpreter/context.js';
import { InterpreterError } from '../interpreter/errors.js';
import { getOp, getValueOp, listOps, normalizeDomain } from '../interpreter/registry.js';
import { isTensor } from '../interpreter/value.js';
// the interpreter's op implementations are the folder's semantics: one copy of every op
import '../interpreter/ops/index.js';

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
 * Plug in an evaluator for ops the interpreter does not implement. Pass undefined to remove it.
 * Returns the previous evaluator.
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

/** Op types constant folding evaluates without a plugged evaluator: the interpreter's default-domain ops. */
export function builtinFoldOps(): string[] {
  return listOps()
    .filter((k) => k.startsWith('::'))
    .map((k) => k.slice(2))
    .sort();
}

function foldContext(node: Node, opset: number): OpContext {
  const noSubgraph = (): never => {
    throw new InterpreterError(`node ${node.name || node.opType} (${node.opType}): constant folding does not run subgraphs`);
  };
  return { node, opset, backend: 'cpu', runSubgraph: noSubgraph, runSubgraphValues: noSubgraph, ...attributeAccessors(node) };
}

/**
 * Evaluate `node` with the interpreter's implementation of its op (on cpu), else the plugged
 * evaluator. Undefined when neither knows the op or an output is not a tensor.
 */
export async function evaluateConstantNode(
  node: Node,
  inputs: (Tensor | undefined)[],
  opset: number,
  evaluator: ConstantEvaluator | undefined = plugged,
): Promise<(Tensor | undefined)[] | undefined> {
  const domain = normalizeDomain(node.domain);
  const impl = getOp(node.opType, domain) ?? getValueOp(node.opType, domain);
  if (!impl) return evaluator ? await evaluator(node, inputs, { opset }) : undefined;
  try {
    const outs = await impl(inputs, foldContext(node, opset));
    return outs.every((v): v is Tensor | undefined => v === undefined || isTensor(v)) ? outs : undefined;
  } catch (e) {
    if (e instanceof WhittleError) throw e;
    throw new InterpreterError(`node ${node.name || node.opType} (${node.opType}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
