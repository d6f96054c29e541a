import { subgraphsOf } from './attributes.js';
import type { Graph } from './types.js';
import { allInputs, outerReferences } from './uses.js';

/** What {@link eliminateDeadCode} removed. */
export interface DceStats {
  nodes: number;
  initializers: number;
  valueInfo: number;
}

/**
 * Remove, in place, nodes whose outputs reach no graph output, then initializers and value_info
 * entries nothing refers to any more (initializers that are also graph inputs are kept). Recurses
 * into subgraphs (their outputs are their roots). `extraRoots` are values to keep alive.
 */
export function eliminateDeadCode(g: Graph, extraRoots: Iterable<string> = []): DceStats {
  const stats: DceStats = { nodes: 0, initializers: 0, valueInfo: 0 };
  const live = new Set<string>([...g.outputs.map((o) => o.name), ...extraRoots]);
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.some((o) => o && live.has(o))) {
      keep[i] = true;
      for (const x of allInputs(n)) live.add(x);
    }
  }
  // Nodes out of topological order may feed kept nodes earlier in the list: iterate to a fixpoint.
  for (let changed = true; changed; ) {
    changed = false;
    g.nodes.forEach((n, i) => {
      if (!keep[i] && n.outputs.some((o) => o && live.has(o))) {
        keep[i] = changed = true;
        for (const x of allInputs(n)) live.add(x);
      }
    });
  }
  const before = g.nodes.length;
  g.nodes = g.nodes.filter((_, i) => keep[i]);
  stats.nodes = before - g.nodes.length;
  for (const n of g.nodes) {
    for (const sg of subgraphsOf(n)) {
      const s = eliminateDeadCode(sg);
      stats.nodes += s.nodes;
      stats.initializers += s.initializers;
      stats.valueInfo += s.valueInfo;
    }
  }
  const inputs = new Set(g.inputs.map((v) => v.name));
  for (const map of [g.initializers, g.rawInitializers] as Map<string, unknown>[]) {
    for (const k of [...map.keys()]) {
      if (!live.has(k) && !inputs.has(k)) {
        map.delete(k);
        stats.initializers++;
      }
    }
  }
  const present = new Set<string>(live);
  for (const n of g.nodes) for (const o of n.outputs) if (o) present.add(o);
  for (const k of outerReferences(g)) present.add(k);
  for (const k of [...g.valueInfo.keys()]) {
    if (!present.has(k)) {
      g.valueInfo.delete(k);
      stats.valueInfo++;
    }
  }
  return stats;
}
