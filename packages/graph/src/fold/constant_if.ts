import type { Tensor } from '@whittle/tensor';
import { renameValue } from '../ir/rewrite.js';
import type { Graph, Node } from '../ir/types.js';
import { definedNames } from '../ir/uses.js';

/**
 * The nodes that replace an `If` whose condition is the constant `cond`: the taken branch's nodes,
 * its outputs renamed to the If's outputs (an Identity where a branch output is not computed in the
 * branch), its initializers moved into `g`. Exporters write such Ifs around weights (torch_lib's
 * `aten_t` transposes only when the rank is 2): taking the branch puts the weight's Transpose in
 * reach of constant folding, and the MatMul behind it in reach of every technique. Returns
 * undefined (the If stays) when a branch name would collide with one of `g`.
 */
export function takeConstantBranch(g: Graph, node: Node, cond: Tensor): Node[] | undefined {
  const values = cond.dataSync();
  if (values.length !== 1) return undefined;
  const attr = node.attributes.get(values[0] ? 'then_branch' : 'else_branch');
  if (attr?.type !== 'graph') return undefined;
  const b = attr.value;
  if (b.outputs.length !== node.outputs.length) return undefined;
  const outer = definedNames(g);
  const inner = definedNames(b);
  for (const name of inner) if (outer.has(name)) return undefined;
  const producedInBranch = new Set(b.nodes.flatMap((n) => n.outputs));
  const passOn: Node[] = [];
  const renamed = new Set<string>();
  b.outputs.forEach((o, i) => {
    const want = node.outputs[i];
    if (!want) return;
    if (producedInBranch.has(o.name) && !renamed.has(o.name) && !inner.has(want)) {
      renameValue(b, o.name, want);
      renamed.add(want);
    } else {
      passOn.push({ name: `${node.name || want}/take_${i}`, opType: 'Identity', domain: '', inputs: [o.name], outputs: [want], attributes: new Map() });
    }
  });
  for (const [k, t] of b.initializers) g.initializers.set(k, t);
  for (const [k, t] of b.rawInitializers) g.rawInitializers.set(k, t);
  for (const [k, v] of b.valueInfo) if (!g.valueInfo.has(k)) g.valueInfo.set(k, v);
  const nodes = [...b.nodes, ...passOn];
  b.nodes = [];
  return nodes;
}
