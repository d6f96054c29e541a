import type { Dim, Graph, Node, ValueType } from '../../ir/types.js';
import type { OutInfo } from './rule.js';

/** What inferring one branch gives: its values' types and known small data. */
export interface BranchTypes {
  types: ReadonlyMap<string, ValueType>;
  data: ReadonlyMap<string, Dim[]>;
}

/** Infers a branch graph given the enclosing scope's types and data (the driver's own inference). */
export type InferBranch = (branch: Graph) => BranchTypes;

function branch(node: Node, name: string): Graph | undefined {
  const a = node.attributes.get(name);
  return a?.type === 'graph' ? a.value : undefined;
}

function outputInfo(g: Graph, r: BranchTypes, i: number): OutInfo | undefined {
  const name = g.outputs[i]?.name;
  const t = name ? (r.types.get(name) ?? g.outputs[i]!.type ?? undefined) : undefined;
  if (t?.kind !== 'tensor') return undefined;
  return { elem: t.elemType === 'undefined' ? undefined : t.elemType, shape: t.shape, data: name ? r.data.get(name) : undefined };
}

/** What two branches' outputs agree on: the element type, the rank, and the dims both have. */
function agree(a: OutInfo | undefined, b: OutInfo | undefined): OutInfo | undefined {
  if (!a || !b) return undefined;
  const elem = a.elem === b.elem ? a.elem : undefined;
  const shape = a.shape && b.shape && a.shape.length === b.shape.length ? a.shape.map((d, k) => (d === b.shape![k] ? d : null)) : undefined;
  return { elem, shape };
}

/**
 * Output types of an `If`: the taken branch's when the condition is known (exporters guard a weight's
 * transpose with `If(Equal(Rank(w), 2))`, whose condition shape inference computes), else what
 * both branches agree on. Without this every value after an If had no shape, and what reads it
 * (a Gemm's FLOPs) counted nothing.
 */
export function ifOutputs(node: Node, cond: readonly Dim[] | undefined, infer: InferBranch): (OutInfo | undefined)[] {
  const thenG = branch(node, 'then_branch');
  const elseG = branch(node, 'else_branch');
  if (!thenG || !elseG) return [];
  const known = cond?.length === 1 && typeof cond[0] === 'number' ? cond[0] !== 0 : undefined;
  if (known !== undefined) {
    const g = known ? thenG : elseG;
    const r = infer(g);
    return node.outputs.map((_, i) => outputInfo(g, r, i));
  }
  const t = infer(thenG);
  const e = infer(elseG);
  return node.outputs.map((_, i) => agree(outputInfo(thenG, t, i), outputInfo(elseG, e, i)));
}
