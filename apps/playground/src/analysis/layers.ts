/**
 * Layers of a graph for display: every node that computes on data (not only on constants), with
 * the initializers it reads either directly or through constant-only nodes. That attributes a
 * quantized weight to its Gemm rather than to the DequantizeLinear in front of it, so the same
 * layer can be compared before and after compression.
 */
import { type Model, type Node, subgraphsOf } from '@whittle/graph';

/** A compute node and the weights behind it. */
export interface GraphLayer {
  /** Node name, or `OpType#index` for unnamed nodes. */
  name: string;
  node: Node;
  index: number;
  /** Initializer names reached through constant inputs. */
  initializers: string[];
  /** The node's inputs that are constants (initializers or outputs of constant-only nodes). */
  constantInputs: string[];
}

/** Constant values of a graph: initializers and outputs of nodes that read only constants, with those nodes. */
export function constantValues(model: Model): { values: Set<string>; producers: Map<string, Node> } {
  const g = model.graph;
  const fed = new Set(g.inputs.filter((i) => !g.initializers.has(i.name) && !g.rawInitializers.has(i.name)).map((i) => i.name));
  const values = new Set<string>([...g.initializers.keys(), ...g.rawInitializers.keys()].filter((n) => !fed.has(n)));
  const producers = new Map<string, Node>();
  for (const n of g.nodes) {
    const ins = n.inputs.filter(Boolean);
    const constant = subgraphsOf(n).length === 0 && (n.opType === 'Constant' || (ins.length > 0 && ins.every((i) => values.has(i))));
    if (!constant) continue;
    for (const o of n.outputs.filter(Boolean)) {
      values.add(o);
      producers.set(o, n);
    }
  }
  return { values, producers };
}

/** Every compute node with the initializers behind its constant inputs (graph order). */
export function graphLayers(model: Model): GraphLayer[] {
  const g = model.graph;
  const { values, producers } = constantValues(model);
  const isInit = (v: string): boolean => values.has(v) && !producers.has(v);
  const behind = (v: string, acc: Set<string>, seen: Set<string>): void => {
    if (seen.has(v)) return;
    seen.add(v);
    if (isInit(v)) acc.add(v);
    for (const i of producers.get(v)?.inputs ?? []) if (i) behind(i, acc, seen);
  };
  const layers: GraphLayer[] = [];
  g.nodes.forEach((node, index) => {
    if (node.outputs.some((o) => producers.get(o) === node)) return; // a constant-only node
    const constantInputs = node.inputs.filter((i) => i && values.has(i));
    const acc = new Set<string>();
    const seen = new Set<string>();
    for (const i of constantInputs) behind(i, acc, seen);
    layers.push({ name: node.name || `${node.opType}#${index}`, node, index, initializers: [...acc], constantInputs });
  });
  return layers;
}
