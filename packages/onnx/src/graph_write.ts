/** Graph IR → GraphProto / NodeProto / AttributeProto objects (encoded by onnx-proto). */
import type { AttributeValue, Graph, Node } from '@whittle/graph';
import { OnnxFormatError } from './errors.js';
import { encodeTensor } from './tensor_io.js';
import { encodeValueInfo } from './value_type.js';
import { onnx, setUnknownFields, type OnnxTypes } from './proto.js';
import { encodeStringMap, utf8Bytes, WireWriter } from './wire.js';
import type { ExternalDataSink } from './external.js';

export interface GraphWriteContext {
  sink?: ExternalDataSink;
  /** Write unloaded (deferred) initializers as their external references. */
  keepExternalRefs?: boolean;
}

interface LongBitsLike {
  low: number;
  high: number;
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/**
 * An integer as int64 low/high words for protobufjs. Values at or beyond ±2^63 (what INT64_MAX
 * becomes as a JS number) clamp to INT64_MAX / INT64_MIN, so e.g. Slice ends survive a round trip.
 */
export function int64Of(v: number, where: string): number | LongBitsLike {
  if (!Number.isFinite(v)) throw new OnnxFormatError(`${where}: integer value ${v} is not finite`);
  if (Number.isSafeInteger(v)) return v;
  let b = BigInt(Math.trunc(v));
  if (b > I64_MAX) b = I64_MAX;
  if (b < I64_MIN) b = I64_MIN;
  const u = BigInt.asUintN(64, b);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0 };
}

function encodeAttribute(name: string, a: AttributeValue, where: string, ctx: GraphWriteContext): OnnxTypes.IAttributeProto {
  const w = `${where} attribute '${name}'`;
  switch (a.type) {
    case 'raw': {
      const decoded = onnx.AttributeProto.decode(a.value);
      decoded.name = name;
      return decoded;
    }
    case 'float':
      return { name, type: 1, f: a.value };
    case 'int':
      return { name, type: 2, i: int64Of(a.value, w) as number };
    case 'string':
      return { name, type: 3, s: a.bytes ?? utf8Bytes(a.value) };
    case 'tensor':
      return { name, type: 4, t: encodeTensor(undefined, a.value, { where: w, ...(ctx.sink ? { sink: ctx.sink } : {}) }) };
    case 'graph':
      return { name, type: 5, g: encodeGraph(a.value, ctx, w) };
    case 'floats':
      return { name, type: 6, floats: [...a.value] };
    case 'ints':
      return { name, type: 7, ints: a.value.map((v) => int64Of(v, w) as number) };
    case 'strings':
      return { name, type: 8, strings: a.value.map(utf8Bytes) };
    case 'tensors':
      return { name, type: 9, tensors: a.value.map((t, i) => encodeTensor(undefined, t, { where: `${w}[${i}]` })) };
    case 'graphs':
      return { name, type: 10, graphs: a.value.map((g, i) => encodeGraph(g, ctx, `${w}[${i}]`)) };
  }
}

function encodeNode(n: Node, index: number, ctx: GraphWriteContext, scope: string): OnnxTypes.INodeProto {
  const where = `${scope}node ${n.name ? `'${n.name}'` : `#${index}`} (${n.opType})`;
  const out: OnnxTypes.INodeProto = { input: [...n.inputs], output: [...n.outputs], opType: n.opType };
  if (n.name) out.name = n.name;
  if (n.domain) out.domain = n.domain;
  if (n.attributes.size) out.attribute = [...n.attributes].map(([k, v]) => encodeAttribute(k, v, where, ctx));
  if (n.docString) out.docString = n.docString;
  const extra: Uint8Array[] = [];
  if (n.overload) extra.push(new WireWriter().string(8, n.overload).finish());
  if (n.metadataProps && Object.keys(n.metadataProps).length) extra.push(encodeStringMap(9, n.metadataProps));
  if (n.unknownFields) extra.push(...n.unknownFields);
  return setUnknownFields(out, extra);
}

/** Encode a Graph (subgraphs recursively). Initializers above the sink's threshold go external. */
export function encodeGraph(g: Graph, ctx: GraphWriteContext, scope = ''): OnnxTypes.IGraphProto {
  const prefix = scope ? `${scope} > ` : '';
  const out: OnnxTypes.IGraphProto = {
    node: g.nodes.map((n, i) => encodeNode(n, i, ctx, prefix)),
    name: g.name,
    input: g.inputs.map(encodeValueInfo),
    output: g.outputs.map(encodeValueInfo),
    valueInfo: [...g.valueInfo.values()].map(encodeValueInfo),
  };
  const inits: OnnxTypes.ITensorProto[] = [];
  const fields = g.passthrough?.initializerFields;
  for (const [name, t] of g.initializers) {
    const p = encodeTensor(name, t, { where: `${prefix}initializer '${name}'`, ...(ctx.sink ? { sink: ctx.sink } : {}), ...(ctx.keepExternalRefs ? { keepExternalRefs: true } : {}) });
    inits.push(setUnknownFields(p, fields?.[name]));
  }
  for (const [name, t] of g.rawInitializers) {
    if (g.initializers.has(name)) throw new OnnxFormatError(`${prefix}initializer '${name}' is in both initializers and rawInitializers; keep one`);
    inits.push(encodeTensor(name, t, { where: `${prefix}initializer '${name}'`, ...(ctx.sink ? { sink: ctx.sink } : {}), ...(ctx.keepExternalRefs ? { keepExternalRefs: true } : {}) }));
  }
  out.initializer = inits;
  if (g.docString) out.docString = g.docString;
  const pass = g.passthrough;
  if (pass?.sparseInitializers?.length) out.sparseInitializer = pass.sparseInitializers.map((b) => onnx.SparseTensorProto.decode(b));
  if (pass?.quantizationAnnotations?.length) {
    out.quantizationAnnotation = pass.quantizationAnnotations.map((b) => onnx.TensorAnnotation.decode(b));
  }
  const extra: Uint8Array[] = [];
  if (g.metadataProps && Object.keys(g.metadataProps).length) extra.push(encodeStringMap(16, g.metadataProps));
  if (pass?.unknownFields) extra.push(...pass.unknownFields);
  return setUnknownFields(out, extra);
}
