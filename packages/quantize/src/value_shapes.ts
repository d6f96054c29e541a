import { type Dim, type Graph, type GraphScope, type ValueType, inferValueTypes } from '@whittle/graph';

/** Declared value shapes (value_info) of every scope, saved before a pass changes element types. */
export type DeclaredShapes = Map<Graph, Map<string, readonly Dim[]>>;

/** The shapes the scopes' value_info declares (tensor values with a known rank). */
export function declaredShapes(scopes: readonly GraphScope[]): DeclaredShapes {
  const out: DeclaredShapes = new Map();
  for (const s of scopes) {
    const m = new Map<string, readonly Dim[]>();
    for (const [k, v] of s.graph.valueInfo) if (v.type?.kind === 'tensor' && v.type.shape) m.set(k, v.type.shape);
    out.set(s.graph, m);
  }
  return out;
}

/**
 * Declare the saved shapes again with the element types the rewritten graphs now compute (inferred
 * main graph first, each subgraph with its enclosing graph's types). Exporters write these
 * shapes where inference alone cannot follow them (shapes computed at run time, symbolic dims
 * inside If branches); dropping them would leave later analysis (FLOPs, shape-based passes)
 * blind. A value no longer produced, or whose element type cannot be inferred, is not declared.
 */
export function redeclareShapes(scopes: readonly GraphScope[], saved: DeclaredShapes, opset: number): void {
  const typesOf = new Map<Graph, ReadonlyMap<string, ValueType>>();
  for (const s of scopes) {
    const g = s.graph;
    const outer = s.parent ? typesOf.get(s.parent.graph) : undefined;
    const shapes = saved.get(g) ?? new Map<string, readonly Dim[]>();
    const produced = new Set(g.nodes.flatMap((n) => n.outputs));
    const types = new Map(inferValueTypes(g, { opset, ...(outer ? { outer } : {}) }).types);
    for (const [name, shape] of shapes) {
      const elemType = types.get(name)?.elemType;
      if (!produced.has(name) || !elemType) continue;
      const type: ValueType = { kind: 'tensor', elemType, shape };
      g.valueInfo.set(name, { name, type });
      // the subgraphs read this graph's values with the shapes just declared
      types.set(name, type);
    }
    typesOf.set(g, types);
  }
}
