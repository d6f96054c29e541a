import type { Tensor } from '@whittle/tensor';
import type { AttributeValue, Dim, Graph, Model, Node, OnnxDataType, OpsetImport } from '../ir/types.js';

/** Plain attribute values accepted by {@link GraphBuilder.node}; types are inferred. */
export type AttrInput = number | string | number[] | string[] | Tensor | Graph | AttributeValue;

/** Options of {@link GraphBuilder.node}. */
export interface NodeOptions {
  name?: string;
  domain?: string;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names (default: fresh names from the node name). */
  outputNames?: string[];
  /** Attributes whose numbers are floats even when integral (e.g. alpha: 1). */
  floatAttrs?: string[];
}

/**
 * Builds graphs and models in code (tests, model zoo, templates). Names are made unique; every
 * node gets a name.
 *
 * ```ts
 * const b = new GraphBuilder('mlp');
 * const x = b.input('x', 'float32', ['N', 784]);
 * const h = b.node('Gemm', [x, b.initializer('fc1.weight', w1), b.initializer('fc1.bias', b1)], { transB: 1 });
 * b.output(b.node('Relu', [h]), 'float32', ['N', 300]);
 * const model = b.model();
 * ```
 */
export class GraphBuilder {
  private readonly graph: Graph;
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(name = 'main') {
    this.graph = { name, nodes: [], inputs: [], outputs: [], valueInfo: new Map(), initializers: new Map(), rawInitializers: new Map() };
  }

  /** A fresh unique value/node name with the given stem. */
  fresh(stem: string): string {
    let name = stem;
    while (this.used.has(name)) name = `${stem}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: OnnxDataType, shape: readonly Dim[]): string {
    const n = this.fresh(name);
    this.graph.inputs.push({ name: n, type: { kind: 'tensor', elemType, shape: [...shape] } });
    return n;
  }

  initializer(name: string, t: Tensor): string {
    const n = this.fresh(name);
    this.graph.initializers.set(n, t);
    return n;
  }

  /** Add a node; returns its first output name (all names via `nodeOutputs`). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrInput> = {}, opts: NodeOptions = {}): string {
    return this.nodeOutputs(opType, inputs, attrs, opts)[0]!;
  }

  nodeOutputs(opType: string, inputs: readonly string[], attrs: Record<string, AttrInput> = {}, opts: NodeOptions = {}): string[] {
    const name = this.fresh(opts.name ?? opType);
    const count = opts.outputNames?.length ?? opts.outputs ?? 1;
    const outputs = opts.outputNames ? opts.outputNames.map((o) => this.fresh(o)) : Array.from({ length: count }, (_, i) => this.fresh(count === 1 ? `${name}_out` : `${name}_out${i}`));
    const attributes = new Map<string, AttributeValue>();
    for (const [k, v] of Object.entries(attrs)) attributes.set(k, toAttribute(v, opts.floatAttrs?.includes(k) ?? false));
    const node: Node = { name, opType, domain: opts.domain ?? '', inputs: [...inputs], outputs, attributes };
    this.graph.nodes.push(node);
    return outputs;
  }

  output(name: string, elemType: OnnxDataType = 'float32', shape?: readonly Dim[]): void {
    this.graph.outputs.push({ name, type: shape ? { kind: 'tensor', elemType, shape: [...shape] } : { kind: 'tensor', elemType } });
  }

  /** The graph built so far (not copied). */
  build(): Graph {
    return this.graph;
  }

  /** Wrap the graph in a model (default opset 21, IR version 10). */
  model(opsetImports: OpsetImport[] = [{ domain: '', version: 21 }], extra: Partial<Omit<Model, 'graph'>> = {}): Model {
    return { irVersion: 10, opsetImports, producerName: 'whittle', metadataProps: {}, ...extra, graph: this.graph };
  }
}

function toAttribute(v: AttrInput, asFloat: boolean): AttributeValue {
  if (typeof v === 'number') return asFloat || !Number.isInteger(v) ? { type: 'float', value: v } : { type: 'int', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    const nums = v as number[];
    return asFloat || nums.some((x) => !Number.isInteger(x)) ? { type: 'floats', value: nums } : { type: 'ints', value: nums };
  }
  if (typeof v === 'object' && v && 'type' in v && typeof (v as AttributeValue).type === 'string' && 'value' in v) return v as AttributeValue;
  if (typeof v === 'object' && v && 'nodes' in v) return { type: 'graph', value: v as Graph };
  return { type: 'tensor', value: v as Tensor };
}
