import { subgraphsOf } from './attributes.js';
import type { Graph, Node } from './types.js';

/** Where a value is consumed. `input` is the input slot, or -1 for a use inside a subgraph. */
export interface Use {
  node: Node;
  input: number;
}

/** Where a value is produced. */
export interface Producer {
  node: Node;
  output: number;
}

/** Producer/consumer index of one graph (see {@link buildUseIndex}). */
export interface UseIndex {
  /** value name → producing node of this graph (graph inputs and initializers have none). */
  producers: Map<string, Producer>;
  /** value name → consuming nodes (a node appears once per input slot, once per subgraph use). */
  consumers: Map<string, Use[]>;
  /** Names of graph outputs. */
  graphOutputs: Set<string>;
}

/** Names defined inside a graph: its inputs, initializers and node outputs. */
export function definedNames(g: Graph): Set<string> {
  const s = new Set<string>();
  for (const v of g.inputs) s.add(v.name);
  for (const k of g.initializers.keys()) s.add(k);
  for (const k of g.rawInitializers.keys()) s.add(k);
  for (const n of g.nodes) for (const o of n.outputs) if (o) s.add(o);
  return s;
}

/**
 * Names a subgraph reads from enclosing scopes: used (by nodes, nested subgraphs or as outputs)
 * but not defined in it.
 */
export function outerReferences(g: Graph): Set<string> {
  const defined = definedNames(g);
  const out = new Set<string>();
  const use = (name: string): void => {
    if (name && !defined.has(name)) out.add(name);
  };
  for (const n of g.nodes) {
    for (const i of n.inputs) use(i);
    for (const sg of subgraphsOf(n)) for (const r of outerReferences(sg)) use(r);
  }
  for (const o of g.outputs) use(o.name);
  return out;
}

/** Outer-scope names a node reads through its subgraphs (If/Loop/Scan bodies). */
export function implicitInputs(node: Node): Set<string> {
  const s = new Set<string>();
  for (const sg of subgraphsOf(node)) for (const r of outerReferences(sg)) s.add(r);
  return s;
}

/** Every value a node reads: its explicit (non-empty) inputs and its implicit subgraph inputs. */
export function allInputs(node: Node): string[] {
  const s = new Set(node.inputs.filter((i) => i !== ''));
  for (const r of implicitInputs(node)) s.add(r);
  return [...s];
}

/**
 * Build the producer/consumer index of `g`. Uses of outer values inside subgraphs of If/Loop/Scan
 * count as uses by the node owning the subgraph (with `input: -1`). The index is a snapshot:
 * rebuild it after rewriting.
 */
export function buildUseIndex(g: Graph): UseIndex {
  const producers = new Map<string, Producer>();
  const consumers = new Map<string, Use[]>();
  const add = (name: string, u: Use): void => {
    const l = consumers.get(name);
    if (l) l.push(u);
    else consumers.set(name, [u]);
  };
  for (const node of g.nodes) {
    node.outputs.forEach((o, output) => {
      if (o) producers.set(o, { node, output });
    });
    node.inputs.forEach((i, input) => {
      if (i) add(i, { node, input });
    });
    for (const r of implicitInputs(node)) add(r, { node, input: -1 });
  }
  return { producers, consumers, graphOutputs: new Set(g.outputs.map((o) => o.name)) };
}

/** Consuming nodes of `name` (each node once). */
export function consumersOf(index: UseIndex, name: string): Node[] {
  return [...new Set((index.consumers.get(name) ?? []).map((u) => u.node))];
}

/**
 * The nodes of `g` that compute `values` (their producers and, recursively, those producers'
 * inputs' producers), in graph order: the subgraph to run for just those values (a layer weight
 * decoded from constants, say).
 */
export function producingNodes(g: Graph, values: readonly string[]): Node[] {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const y of n.outputs) if (y) producer.set(y, n);
  const need = new Set<Node>();
  const visit = (v: string): void => {
    const p = producer.get(v);
    if (!p || need.has(p)) return;
    need.add(p);
    for (const i of p.inputs) if (i) visit(i);
  };
  values.forEach(visit);
  return g.nodes.filter((n) => need.has(n));
}
