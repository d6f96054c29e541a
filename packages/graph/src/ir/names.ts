import { subgraphsOf } from './attributes.js';
import { rootGraphOf } from './scopes.js';
import type { Graph } from './types.js';

function collect(g: Graph, values: Set<string>, nodes: Set<string>): void {
  for (const v of g.inputs) values.add(v.name);
  for (const v of g.outputs) values.add(v.name);
  for (const k of g.initializers.keys()) values.add(k);
  for (const k of g.rawInitializers.keys()) values.add(k);
  for (const k of g.valueInfo.keys()) values.add(k);
  for (const n of g.nodes) {
    if (n.name) nodes.add(n.name);
    for (const x of n.inputs) if (x) values.add(x);
    for (const x of n.outputs) if (x) values.add(x);
    for (const sg of subgraphsOf(n)) collect(sg, values, nodes);
  }
}

/**
 * Hands out value and node names unused anywhere in a graph (subgraphs included). Create one per
 * rewrite session; names it returns are reserved so two calls never collide. For a subgraph
 * reached through `graphScopes`, the names of the whole model count (no outer name is reused).
 */
export class NameGenerator {
  private readonly values = new Set<string>();
  private readonly nodes = new Set<string>();
  constructor(g: Graph) {
    collect(rootGraphOf(g), this.values, this.nodes);
  }
  private fresh(set: Set<string>, base: string): string {
    let name = base;
    for (let k = 1; set.has(name); k++) name = `${base}_${k}`;
    set.add(name);
    return name;
  }
  /** A fresh value name: `base`, else `base_1`, `base_2`, … */
  value(base: string): string {
    return this.fresh(this.values, base);
  }
  /** A fresh node name. */
  node(base: string): string {
    return this.fresh(this.nodes, base);
  }
  /** Mark a name as taken. */
  reserve(name: string): void {
    this.values.add(name);
  }
}

/** One fresh value name for `g` (use a {@link NameGenerator} for several). */
export function uniqueName(g: Graph, base: string): string {
  return new NameGenerator(g).value(base);
}
