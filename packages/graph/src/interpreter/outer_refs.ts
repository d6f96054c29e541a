import type { Graph, Node } from '../ir/types.js';

/**
 * Names a node reads: its inputs plus every outer-scope name its subgraphs (If/Loop/Scan bodies,
 * recursively) read without defining them.
 */
export function namesRead(node: Node): string[] {
  const names = node.inputs.filter((n) => n !== '');
  for (const a of node.attributes.values()) {
    if (a.type === 'graph') names.push(...outerNames(a.value));
    else if (a.type === 'graphs') for (const g of a.value) names.push(...outerNames(g));
  }
  return names;
}

/** Names a graph reads from its enclosing scope. */
export function outerNames(g: Graph): string[] {
  const defined = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys(), ...g.rawInitializers.keys()]);
  const out = new Set<string>();
  for (const n of g.nodes) {
    for (const name of namesRead(n)) if (!defined.has(name)) out.add(name);
    for (const o of n.outputs) if (o) defined.add(o);
  }
  for (const o of g.outputs) if (!defined.has(o.name)) out.add(o.name);
  return [...out];
}
