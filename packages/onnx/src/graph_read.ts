/** GraphProto / NodeProto / AttributeProto → Graph IR. */
import type { Tensor } from '@whittle/tensor';
import type { AttributeValue, Graph, Node, RawTensor } from '@whittle/graph';
import { OnnxFormatError } from './errors.js';
import { decodeTensor, isRawTensor } from './tensor_io.js';
import { decodeValueInfo, splitUnknown } from './value_type.js';
import { onnx, toNum, unknownFields, type OnnxTypes } from './proto.js';
import { utf8, WireWriter } from './wire.js';
import type { ExternalDataLoader } from './external.js';

export interface GraphReadContext {
  loadExternal?: ExternalDataLoader;
  /** Leave external initializer data unloaded (RawTensor with `external`). */
  deferExternal?: boolean;
  /** Tensors may view the model / external bytes instead of copying them (see TensorReadContext). */
  viewBytes?: boolean | 'align-in-place';
}

// AttributeProto.AttributeType
const A = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** Decode UTF-8 only if it round-trips exactly; else undefined. */
function exactUtf8(b: Uint8Array): string | undefined {
  const s = utf8(b);
  const back = new TextEncoder().encode(s);
  if (back.length !== b.length) return undefined;
  for (let i = 0; i < b.length; i++) if (back[i] !== b[i]) return undefined;
  return s;
}

/** The attribute type: the declared one, or inferred from the field set (IR v1/v2 models). */
function attributeType(a: OnnxTypes.IAttributeProto): number {
  if (a.type) return a.type;
  if (has(a, 'f')) return A.FLOAT;
  if (has(a, 'i')) return A.INT;
  if (has(a, 's')) return A.STRING;
  if (has(a, 't')) return A.TENSOR;
  if (has(a, 'g')) return A.GRAPH;
  if (a.floats?.length) return A.FLOATS;
  if (a.ints?.length) return A.INTS;
  if (a.strings?.length) return A.STRINGS;
  if (a.tensors?.length) return A.TENSORS;
  if (a.graphs?.length) return A.GRAPHS;
  return 0;
}

function decodeAttribute(a: OnnxTypes.IAttributeProto, where: string, ctx: GraphReadContext): AttributeValue {
  const raw = (): AttributeValue => ({ type: 'raw', value: onnx.AttributeProto.encode(a).finish() });
  if (a.refAttrName || a.docString || unknownFields(a)) return raw();
  switch (attributeType(a)) {
    case A.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case A.INT:
      return { type: 'int', value: toNum(a.i) };
    case A.STRING: {
      const bytes = a.s ?? new Uint8Array(0);
      const s = exactUtf8(bytes);
      return s === undefined ? { type: 'string', value: utf8(bytes), bytes: Uint8Array.from(bytes) } : { type: 'string', value: s };
    }
    case A.TENSOR:
      if (!a.t) throw new OnnxFormatError(`${where}: TENSOR attribute without a tensor`);
      return { type: 'tensor', value: decodeTensor(a.t, { ...ctx, deferExternal: false, where }) };
    case A.GRAPH:
      if (!a.g) throw new OnnxFormatError(`${where}: GRAPH attribute without a graph`);
      return { type: 'graph', value: decodeGraph(a.g, ctx, where) };
    case A.FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case A.INTS:
      return { type: 'ints', value: (a.ints ?? []).map((v) => toNum(v)) };
    case A.STRINGS: {
      const out: string[] = [];
      for (const b of a.strings ?? []) {
        const s = exactUtf8(b);
        if (s === undefined) return raw();
        out.push(s);
      }
      return { type: 'strings', value: out };
    }
    case A.TENSORS:
      return { type: 'tensors', value: (a.tensors ?? []).map((t, i) => decodeTensor(t, { ...ctx, deferExternal: false, where: `${where}[${i}]` })) };
    case A.GRAPHS:
      return { type: 'graphs', value: (a.graphs ?? []).map((g, i) => decodeGraph(g, ctx, `${where}[${i}]`)) };
    default:
      return raw();
  }
}

function decodeNode(n: OnnxTypes.INodeProto, index: number, ctx: GraphReadContext, scope: string): Node {
  const label = `${scope}node ${n.name ? `'${n.name}'` : `#${index}`} (${n.opType ?? '?'})`;
  const attributes = new Map<string, AttributeValue>();
  for (const a of n.attribute ?? []) {
    const name = a.name ?? '';
    if (attributes.has(name)) throw new OnnxFormatError(`${label}: attribute '${name}' appears twice`);
    attributes.set(name, decodeAttribute(a, `${label} attribute '${name}'`, ctx));
  }
  const node: Node = {
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes,
  };
  if (n.docString) node.docString = n.docString;
  const u = splitUnknown(n, { 8: 'string', 9: 'metadata' });
  if (u.strings[8] !== undefined) node.overload = u.strings[8];
  if (u.props) node.metadataProps = u.props;
  if (u.rest) node.unknownFields = u.rest;
  return node;
}

/** Decode a GraphProto (subgraphs recursively). `scope` prefixes error locations. */
export function decodeGraph(g: OnnxTypes.IGraphProto, ctx: GraphReadContext, scope = ''): Graph {
  const prefix = scope ? `${scope} > ` : '';
  const graph: Graph = {
    name: g.name ?? '',
    nodes: [],
    inputs: (g.input ?? []).map((v) => decodeValueInfo(v, `${prefix}graph input`)),
    outputs: (g.output ?? []).map((v) => decodeValueInfo(v, `${prefix}graph output`)),
    valueInfo: new Map(),
    initializers: new Map<string, Tensor>(),
    rawInitializers: new Map<string, RawTensor>(),
  };
  for (const v of g.valueInfo ?? []) {
    const info = decodeValueInfo(v, `${prefix}value_info`);
    graph.valueInfo.set(info.name, info);
  }
  const fields: Record<string, Uint8Array[]> = {};
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (graph.initializers.has(name) || graph.rawInitializers.has(name)) {
      throw new OnnxFormatError(`${prefix}initializer '${name}' is defined twice; rename or remove one`);
    }
    const value = decodeTensor(t, { ...ctx, where: `${prefix}initializer '${name}'` });

    if (isRawTensor(value)) graph.rawInitializers.set(name, value);
    else {
      graph.initializers.set(name, value);
      const extra: Uint8Array[] = [];
      if (t.docString) extra.push(new WireWriter().string(12, t.docString).finish());
      extra.push(...(unknownFields(t) ?? []));
      if (extra.length) fields[name] = extra;
    }
  }
  graph.nodes = (g.node ?? []).map((n, i) => decodeNode(n, i, ctx, prefix));
  if (g.docString) graph.docString = g.docString;
  const pass: NonNullable<Graph['passthrough']> = {};
  if (g.sparseInitializer?.length) pass.sparseInitializers = g.sparseInitializer.map((s) => onnx.SparseTensorProto.encode(s).finish());
  if (g.quantizationAnnotation?.length) {
    pass.quantizationAnnotations = g.quantizationAnnotation.map((q) => onnx.TensorAnnotation.encode(q).finish());
  }
  if (Object.keys(fields).length) pass.initializerFields = fields;
  const u = splitUnknown(g, { 16: 'metadata' });
  if (u.props) graph.metadataProps = u.props;
  if (u.rest) pass.unknownFields = u.rest;
  if (Object.keys(pass).length) graph.passthrough = pass;
  return graph;
}

/** Names of the sparse initializers kept as encoded bytes. */
export function sparseInitializerNames(g: Graph): string[] {
  return (g.passthrough?.sparseInitializers ?? []).map((b) => onnx.SparseTensorProto.decode(b).values?.name ?? '');
}

