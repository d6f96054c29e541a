import { type Graph, type GraphScope, type Node, graphScopes } from '@whittle/graph';
import type { Tensor } from '@whittle/tensor';
import type { WeightLookup } from './layer.js';

/** Where a weight name read in a scope is defined: the scope owning the initializer. */
export interface ResolvedWeight {
  owner: GraphScope;
  tensor: Tensor;
}

/** One node input slot reading a weight. */
export interface WeightReader {
  scope: GraphScope;
  node: Node;
  input: number;
}

/** The initializers of every scope with their readers across the whole model. */
export interface WeightIndex {
  scopes: GraphScope[];
  /** Resolve `name` as read from `scope` (its own initializers, then the enclosing graphs'). */
  resolve(scope: GraphScope, name: string): ResolvedWeight | undefined;
  /** A lookup for the layer recognizers, bound to one scope. */
  lookup(scope: GraphScope): WeightLookup;
  /** Every node input slot (in any scope) reading the initializer `name` of `owner`. */
  readers(owner: GraphScope, name: string): WeightReader[];
  /** Whether the initializer `name` of `owner` is also a graph output of a scope that sees it. */
  isOutput(owner: GraphScope, name: string): boolean;
}

const key = (owner: GraphScope, name: string): string => `${owner.path}\u0000${name}`;

function inputsOf(g: Graph): Set<string> {
  return new Set(g.inputs.map((v) => v.name));
}

/**
 * Index the initializers of a model's graphs and their readers. ONNX lets a subgraph read the
 * values of its enclosing graphs, so a weight of the main graph may be read inside `If`
 * branches or `Loop`/`Scan` bodies, possibly by several of them (shared).
 */
export function indexWeights(root: Graph): WeightIndex {
  const scopes = graphScopes(root);
  const inputs = new Map<GraphScope, Set<string>>(scopes.map((s) => [s, inputsOf(s.graph)]));
  const resolve = (scope: GraphScope, name: string): ResolvedWeight | undefined => {
    for (let s: GraphScope | undefined = scope; s; s = s.parent) {
      if (inputs.get(s)!.has(name)) return undefined; // a graph input (possibly with an initializer default) is not constant
      const t = s.graph.initializers.get(name);
      if (t) return { owner: s, tensor: t };
    }
    return undefined;
  };
  const readers = new Map<string, WeightReader[]>();
  const outputs = new Set<string>();
  for (const scope of scopes) {
    scope.graph.nodes.forEach((node) => {
      node.inputs.forEach((name, input) => {
        if (!name) return;
        const r = resolve(scope, name);
        if (!r) return;
        const k = key(r.owner, name);
        const l = readers.get(k);
        if (l) l.push({ scope, node, input });
        else readers.set(k, [{ scope, node, input }]);
      });
    });
    for (const o of scope.graph.outputs) {
      const r = resolve(scope, o.name);
      if (r) outputs.add(key(r.owner, o.name));
    }
  }
  return {
    scopes,
    resolve,
    lookup: (scope) => (name) => resolve(scope, name)?.tensor,
    readers: (owner, name) => readers.get(key(owner, name)) ?? [],
    isOutput: (owner, name) => outputs.has(key(owner, name)),
  };
}
