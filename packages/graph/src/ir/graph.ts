import type { Tensor } from '@whittle/tensor';
import type {
  AttributeValue, Dim, Graph, Model, Node, OnnxDataType, OpsetImport, ValueInfo,
} from './types.js';

/** Default opset versions used by {@link createModel} when none are given. */
export const DEFAULT_OPSET = 21;
/** Default ONNX IR version used by {@link createModel}. */
export const DEFAULT_IR_VERSION = 10;

/** Fields accepted by {@link createGraph}; everything is optional. */
export interface GraphInit {
  name?: string;
  nodes?: Node[];
  inputs?: ValueInfo[];
  outputs?: ValueInfo[];
  valueInfo?: Map<string, ValueInfo> | ValueInfo[];
  initializers?: Map<string, Tensor> | Record<string, Tensor>;
  rawInitializers?: Graph['rawInitializers'];
  docString?: string;
}

/** Create a graph, filling empty collections for fields not given. */
export function createGraph(init: GraphInit = {}): Graph {
  const vi = init.valueInfo;
  const inits = init.initializers;
  const g: Graph = {
    name: init.name ?? 'main',
    nodes: init.nodes ?? [],
    inputs: init.inputs ?? [],
    outputs: init.outputs ?? [],
    valueInfo: vi instanceof Map ? vi : new Map((vi ?? []).map((v) => [v.name, v])),
    initializers: inits instanceof Map ? inits : new Map(Object.entries(inits ?? {})),
    rawInitializers: init.rawInitializers ?? new Map(),
  };
  if (init.docString !== undefined) g.docString = init.docString;
  return g;
}

/** Create a model around a graph (default domain at {@link DEFAULT_OPSET} unless given). */
export function createModel(graph: Graph, opts: { opsetImports?: OpsetImport[]; irVersion?: number; producerName?: string } = {}): Model {
  const m: Model = {
    irVersion: opts.irVersion ?? DEFAULT_IR_VERSION,
    opsetImports: opts.opsetImports ?? [{ domain: '', version: DEFAULT_OPSET }],
    metadataProps: {},
    graph,
  };
  if (opts.producerName !== undefined) m.producerName = opts.producerName;
  return m;
}

/** Create a node. `attributes` may be a Map or a record of {@link AttributeValue}s. */
export function createNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> | Map<string, AttributeValue> = {},
  opts: { name?: string; domain?: string } = {},
): Node {
  return {
    name: opts.name ?? '',
    opType,
    domain: opts.domain ?? '',
    inputs: [...inputs],
    outputs: [...outputs],
    attributes: attributes instanceof Map ? new Map(attributes) : new Map(Object.entries(attributes)),
  };
}

/** A tensor ValueInfo (`shape` undefined = rank unknown). */
export function tensorInfo(name: string, elemType: OnnxDataType, shape?: readonly Dim[]): ValueInfo {
  return { name, type: shape === undefined ? { kind: 'tensor', elemType } : { kind: 'tensor', elemType, shape: [...shape] } };
}

/** True for the default ONNX domain ('' or 'ai.onnx'). */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** The opset version the model imports for `domain` (default domain when omitted), or undefined. */
export function opsetVersion(model: Model, domain = ''): number | undefined {
  const d = isDefaultDomain(domain);
  return model.opsetImports.find((o) => (d ? isDefaultDomain(o.domain) : o.domain === domain))?.version;
}

function cloneAttribute(a: AttributeValue): AttributeValue {
  switch (a.type) {
    case 'graph':
      return { type: 'graph', value: cloneGraph(a.value) };
    case 'graphs':
      return { type: 'graphs', value: a.value.map(cloneGraph) };
    case 'floats':
    case 'ints':
      return { type: a.type, value: [...a.value] };
    case 'strings':
      return { type: 'strings', value: [...a.value] };
    case 'tensors':
      return { type: 'tensors', value: [...a.value] };
    default:
      return { ...a };
  }
}

/** Deep-copy a node (subgraphs too; tensors are shared, they are treated as immutable). */
export function cloneNode(n: Node): Node {
  const c: Node = {
    ...n,
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attributes: new Map([...n.attributes].map(([k, v]) => [k, cloneAttribute(v)])),
  };
  if (n.metadataProps) c.metadataProps = { ...n.metadataProps };
  return c;
}

function cloneInfo(v: ValueInfo): ValueInfo {
  const c: ValueInfo = { ...v };
  if (v.metadataProps) c.metadataProps = { ...v.metadataProps };
  return c;
}

/**
 * Deep-copy a graph's structure: nodes, attributes, subgraphs, value infos and the initializer
 * maps are new objects; initializer tensors and raw bytes are shared (treat them as immutable —
 * replace an initializer instead of writing into it).
 */
export function cloneGraph(g: Graph): Graph {
  const c: Graph = {
    ...g,
    nodes: g.nodes.map(cloneNode),
    inputs: g.inputs.map(cloneInfo),
    outputs: g.outputs.map(cloneInfo),
    valueInfo: new Map([...g.valueInfo].map(([k, v]) => [k, cloneInfo(v)])),
    initializers: new Map(g.initializers),
    rawInitializers: new Map(g.rawInitializers),
  };
  if (g.metadataProps) c.metadataProps = { ...g.metadataProps };
  if (g.passthrough) c.passthrough = { ...g.passthrough };
  return c;
}

/** Deep-copy a model (see {@link cloneGraph} for what is shared). */
export function cloneModel(m: Model): Model {
  const c: Model = {
    ...m,
    opsetImports: m.opsetImports.map((o) => ({ ...o })),
    metadataProps: { ...m.metadataProps },
    graph: cloneGraph(m.graph),
  };
  if (m.functions) c.functions = [...m.functions];
  if (m.trainingInfo) c.trainingInfo = [...m.trainingInfo];
  return c;
}

/** True when `name` is an initializer (computable or raw) of `g`. */
export function isInitializer(g: Graph, name: string): boolean {
  return g.initializers.has(name) || g.rawInitializers.has(name);
}

/** A short human label for a node: `'name' (Op #i)`. */
export function nodeLabel(g: Graph, n: Node): string {
  const i = g.nodes.indexOf(n);
  return `${n.name ? `'${n.name}'` : 'unnamed'} (${n.opType}${i >= 0 ? ` #${i}` : ''})`;
}
