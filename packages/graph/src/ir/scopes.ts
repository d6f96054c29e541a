/**
 * Scopes: the main graph and every nested subgraph (If branches, Loop/Scan bodies, at any depth).
 * Techniques walk them through {@link graphScopes} / {@link forEachGraph} so weights inside
 * branches are compressed like any other; {@link localizeInitializers} moves each outer weight
 * into the one subgraph that reads it, so a technique finds a weight next to its consumer.
 */
import { subgraphsOf } from './attributes.js';
import type { Graph, Node } from './types.js';
import { definedNames, outerReferences } from './uses.js';

/** One graph of a model with where it sits. */
export interface GraphScope {
  graph: Graph;
  /** '' for the main graph; else `node/attribute` segments joined by '/', e.g. `If_0/then_branch`. */
  path: string;
  /** The enclosing scope (undefined for the main graph). */
  parent?: GraphScope;
  /** The node holding this subgraph (undefined for the main graph). */
  owner?: Node;
}

// Subgraph → enclosing graph, recorded while walking, so that name generation in a subgraph can
// see every name of the model (ONNX forbids a subgraph to reuse an outer name).
const parents = new WeakMap<Graph, Graph>();

/** The outermost graph enclosing `g` as last seen by {@link graphScopes} (g itself if none). */
export function rootGraphOf(g: Graph): Graph {
  let r = g;
  for (let p = parents.get(r); p; p = parents.get(r)) r = p;
  return r;
}

function ownerLabel(n: Node, k: number): string {
  return n.name || `${n.opType}_${k}`;
}

/** Every graph under `root`, the main graph first, then subgraphs depth-first in node order. */
export function graphScopes(root: Graph): GraphScope[] {
  const out: GraphScope[] = [];
  const walk = (s: GraphScope): void => {
    out.push(s);
    s.graph.nodes.forEach((n, k) => {
      for (const [attrName, a] of n.attributes) {
        const gs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
        gs.forEach((sg, j) => {
          parents.set(sg, s.graph);
          const seg = `${ownerLabel(n, k)}/${attrName}${a.type === 'graphs' ? `[${j}]` : ''}`;
          walk({ graph: sg, path: s.path ? `${s.path}/${seg}` : seg, parent: s, owner: n });
        });
      }
    });
  };
  walk({ graph: root, path: '' });
  return out;
}

/**
 * Run `fn` on every graph under `root` (main graph first), in place. Returns the results in the
 * same order as {@link graphScopes}.
 */
export async function forEachGraph<T>(root: Graph, fn: (scope: GraphScope) => T | Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const s of graphScopes(root)) results.push(await fn(s));
  return results;
}

/** The subgraph path label for reports: `'name'` in the main graph, `'path: name'` inside a subgraph. */
export function scopedName(scope: Pick<GraphScope, 'path'>, name: string): string {
  return scope.path ? `${scope.path}: ${name}` : name;
}

/**
 * Move, in place, each initializer of `g` that no node of `g` reads directly and that exactly one
 * subgraph (at any depth) reads, into that innermost subgraph's initializers. Initializers that are
 * graph outputs, graph inputs, or read by several subgraphs stay where they are (shared).
 * Returns how many moved.
 */
export function localizeInitializers(g: Graph): number {
  let moved = 0;
  const local = new Set<string>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) local.add(i);
  for (const o of g.outputs) local.add(o.name);
  for (const v of g.inputs) local.add(v.name);
  // which subgraphs (direct children) read each outer name
  const readers = new Map<string, Graph[]>();
  for (const n of g.nodes) {
    for (const sg of subgraphsOf(n)) {
      for (const r of outerReferences(sg)) {
        const l = readers.get(r);
        if (l) l.push(sg);
        else readers.set(r, [sg]);
      }
    }
  }
  for (const map of [g.initializers, g.rawInitializers] as Map<string, unknown>[]) {
    for (const [name, t] of [...map]) {
      const r = readers.get(name);
      if (local.has(name) || !r || r.length !== 1) continue;
      const sg = r[0]!;
      if (definedNames(sg).has(name)) continue; // shadowed: leave it alone
      (map === g.initializers ? sg.initializers : sg.rawInitializers).set(name, t as never);
      map.delete(name);
      g.valueInfo.delete(name);
      moved++;
    }
  }
  for (const n of g.nodes) for (const sg of subgraphsOf(n)) moved += localizeInitializers(sg);
  return moved;
}
