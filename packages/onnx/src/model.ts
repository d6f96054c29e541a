/** ModelProto bytes ⇄ Model. Browser-safe: no file system access here. */
import { type Graph, type Model, type Node, GraphCycleError, graphScopes, topologicalOrder } from '@whittle/graph';
import { WhittleError } from '@whittle/tensor';
import { OnnxFormatError } from './errors.js';
import { decodeGraph } from './graph_read.js';
import { encodeGraph } from './graph_write.js';
import { ExternalDataSink, toLoader, type ExternalDataSource } from './external.js';
import { ensureProto, setUnknownFields, toBig, toNum, unknownFields, type OnnxTypes } from './proto.js';
import { validateGraph } from './validate.js';
import { type InlineFunctionsResult, inlineLocalFunctions } from './inline_functions.js';
import { rawByteLength } from './datatype.js';
import { isRawTensor, onnxTypeOf } from './tensor_io.js';

/** Protobuf messages cannot exceed 2 GiB. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface ReadModelOptions {
  /** External tensor data: a Map of location → file bytes, or a loader (the node entry reads files). */
  externalData?: ExternalDataSource;
  /** Check graph structure (defined inputs, no cycles). Default true. */
  validate?: boolean;
  /**
   * Leave external initializer data in its file: such initializers become RawTensors with an
   * `external` reference (location checked, data not read). For tools that stream huge models.
   */
  deferExternal?: boolean;
  /**
   * Let tensors view `bytes` (and external data) where the payload is aligned instead of copying
   * it: reading costs no per-tensor copy, but the caller must not change `bytes` afterwards and
   * the buffer lives as long as any tensor viewing it. 'align-in-place' also views unaligned
   * raw_data payloads, after moving each down over its own (already parsed) field header within
   * `bytes`: `bytes` is changed, so only for a buffer nothing else reads. `readModelFile` uses it
   * (it owns the bytes).
   */
  viewBytes?: boolean | 'align-in-place';
  /**
   * Inline calls of model-local functions (what torch.onnx's dynamo exporter and
   * `export_modules_as_functions` write) into plain nodes, as onnxruntime does on load, so every
   * technique and the interpreter see the MatMuls, Convs and weights inside them. Default true;
   * false keeps the calls and the functions as they are.
   */
  inlineFunctions?: boolean;
  /** Told what inlining did, when the model has local functions (e.g. for `inspect` to say so). */
  onFunctionsInlined?: (result: InlineFunctionsResult) => void;
  /**
   * Told which graphs had their nodes put into topological order on read (paths as in
   * `graphScopes`, '' for the main graph). ONNX requires that order, but some converters (float16
   * conversion with `keep_io_types`, hand-edited graphs) append nodes out of it and onnxruntime
   * sorts on load; Whittle sorts too (stable: a sorted graph keeps its order), so every pass and
   * the interpreter see a valid graph and the written model is valid.
   */
  onNodesSorted?: (scopes: string[]) => void;
}

function wrapParse<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WhittleError) throw e;
    throw new OnnxFormatError(`${what}: protobuf parse failed (${(e as Error).message}); the bytes are truncated or not an ONNX file`, { cause: e });
  }
}

/** Decode ONNX model bytes (a Uint8Array, or the ArrayBuffer fetch and File give) into a {@link Model}. Throws {@link OnnxFormatError} on bad bytes or a value that is not bytes. */
export function readModel(input: Uint8Array | ArrayBuffer, opts: ReadModelOptions = {}): Model {
  const onnx = ensureProto();
  // fetch().arrayBuffer() and File.arrayBuffer() give an ArrayBuffer: read it in place
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (!(bytes instanceof Uint8Array)) {
    const what = typeof input === 'string' ? `a string ('${String(input).slice(0, 60)}'; in Node, read the file with readModelFile from @whittle/onnx/node)` : input === null ? 'null' : typeof input === 'object' ? (input as object).constructor?.name ?? 'an object' : typeof input;
    throw new OnnxFormatError(`readModel: expected the bytes of a .onnx file (a Uint8Array or ArrayBuffer), got ${what}`);
  }
  if (bytes.length === 0) throw new OnnxFormatError('readModel: no bytes given (empty input); pass the contents of a .onnx file');
  const m = wrapParse('readModel', () => onnx.ModelProto.decode(bytes));
  if (!m.graph || !Object.prototype.hasOwnProperty.call(m, 'graph')) {
    throw new OnnxFormatError('readModel: the bytes parse as protobuf but hold no graph; this is not an ONNX model');
  }
  const irVersion = toNum(m.irVersion);
  // IR versions are small (10 in ONNX 1.16); anything huge is corruption, and would not survive
  // a write as int64 either
  if (!(irVersion >= 1 && irVersion <= 1000)) {
    throw new OnnxFormatError(`readModel: ir_version is ${irVersion}; this is not an ONNX model (or it is corrupt)`);
  }
  for (const o of m.opsetImport ?? []) {
    const v = toNum(o.version);
    if (!Number.isSafeInteger(v) || v < 0 || v > 100_000) {
      throw new OnnxFormatError(`readModel: opset_import of domain '${o.domain ?? ''}' has version ${v}; the file is corrupt`);
    }
  }
  if (Object.prototype.hasOwnProperty.call(m, 'modelVersion') && !Number.isSafeInteger(toNum(m.modelVersion))) {
    throw new OnnxFormatError(`readModel: model_version ${toBig(m.modelVersion)} is beyond 2^53; Whittle cannot keep it exactly`);
  }
  if (m.functions?.length && opts.inlineFunctions !== false) {
    const r = inlineLocalFunctions(m);
    opts.onFunctionsInlined?.(r);
  }
  const loadExternal = toLoader(opts.externalData);
  const graph = wrapParse('readModel', () => decodeGraph(m.graph!, { loadExternal, ...(opts.deferExternal ? { deferExternal: true } : {}), ...(opts.viewBytes ? { viewBytes: opts.viewBytes } : {}) }));
  const model: Model = {
    irVersion,
    opsetImports: (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNum(o.version) })),
    metadataProps: {},
    graph,
  };
  if (m.producerName) model.producerName = m.producerName;
  if (m.producerVersion) model.producerVersion = m.producerVersion;
  if (m.domain) model.domain = m.domain;
  if (Object.prototype.hasOwnProperty.call(m, 'modelVersion')) model.modelVersion = toNum(m.modelVersion);
  if (m.docString) model.docString = m.docString;
  for (const e of m.metadataProps ?? []) model.metadataProps[e.key ?? ''] = e.value ?? '';
  if (m.functions?.length) model.functions = m.functions.map((f) => onnx.FunctionProto.encode(f).finish());
  if (m.trainingInfo?.length) model.trainingInfo = m.trainingInfo.map((t) => onnx.TrainingInfoProto.encode(t).finish());
  const u = unknownFields(m);
  if (u) model.unknownFields = u;
  if (opts.validate !== false) validateGraph(graph);
  const sorted = sortScopes(graph);
  if (sorted.length) opts.onNodesSorted?.(sorted);
  return model;
}

/** Sort every graph scope whose nodes are out of topological order; returns their paths. A cyclic graph is left as it is (validation names the cycle). */
function sortScopes(root: Graph): string[] {
  const out: string[] = [];
  for (const { graph, path } of graphScopes(root)) {
    let order: Node[];
    try {
      order = topologicalOrder(graph);
    } catch (e) {
      if (e instanceof GraphCycleError) continue;
      throw e;
    }
    if (order.some((n, i) => n !== graph.nodes[i])) {
      graph.nodes = order;
      out.push(path);
    }
  }
  return out;
}

export interface ExternalDataOptions {
  /** File name (relative to the model's folder) of the one external data file. */
  location: string;
  /** Tensors with at least this many data bytes go external. Default 1024. */
  sizeThreshold?: number;
}

export interface EncodeModelOptions {
  /** Move large tensors to one external file. */
  externalData?: ExternalDataOptions;
  /** Check graph structure before writing. Default true. */
  validate?: boolean;
  /** Largest protobuf allowed (bytes); default 2 GiB − 1 (the protobuf limit). For tests. */
  maxProtobufBytes?: number;
  /**
   * Write initializers that were never loaded (`deferExternal`) as their external references.
   * The caller guarantees the referenced file is next to the written model (see rewriteModelFile).
   */
  keepExternalRefs?: boolean;
}

/** An encoded model: the .onnx bytes plus, when requested, the external data file in chunks. */
export interface EncodedModel {
  model: Uint8Array;
  externalData?: { location: string; chunks: Uint8Array[]; size: number };
}

/** Total bytes of tensor data in a graph (initializers and tensor attributes, subgraphs included). */
export function tensorDataBytes(g: Graph): number {
  let n = 0;
  const add = (t: Parameters<typeof onnxTypeOf>[0]): void => {
    if (isRawTensor(t) && t.external) return; // stays in its file, not in the protobuf
    const dims = isRawTensor(t) ? t.dims : t.shape;
    n += rawByteLength(onnxTypeOf(t), dims.reduce((a, b) => a * b, 1));
  };
  for (const t of g.initializers.values()) add(t);
  for (const t of g.rawInitializers.values()) add(t);
  for (const node of g.nodes) {
    for (const a of node.attributes.values()) {
      if (a.type === 'tensor') add(a.value);
      else if (a.type === 'tensors') a.value.forEach(add);
      else if (a.type === 'graph') n += tensorDataBytes(a.value);
      else if (a.type === 'graphs') for (const sg of a.value) n += tensorDataBytes(sg);
    }
  }
  return n;
}

/** Encode without checking the protobuf size limit (the node entry decides about external data). */
export function encodeModelUnchecked(model: Model, opts: EncodeModelOptions = {}): EncodedModel {
  const onnx = ensureProto();
  if (opts.validate !== false) validateGraph(model.graph);
  const sink = opts.externalData ? new ExternalDataSink(opts.externalData.location, opts.externalData.sizeThreshold ?? 1024) : undefined;
  const m: OnnxTypes.IModelProto = {
    irVersion: model.irVersion,
    // the default domain is the empty string: absent is the same and two bytes shorter
    opsetImport: model.opsetImports.map((o) => (o.domain ? { domain: o.domain, version: o.version } : { version: o.version })),
    graph: encodeGraph(model.graph, { ...(sink ? { sink } : {}), ...(opts.keepExternalRefs ? { keepExternalRefs: true } : {}) }),
  };
  if (model.producerName) m.producerName = model.producerName;
  if (model.producerVersion) m.producerVersion = model.producerVersion;
  if (model.domain) m.domain = model.domain;
  if (model.modelVersion !== undefined) m.modelVersion = model.modelVersion;
  if (model.docString) m.docString = model.docString;
  const meta = Object.entries(model.metadataProps);
  if (meta.length) m.metadataProps = meta.map(([key, value]) => ({ key, value }));
  if (model.functions?.length) m.functions = model.functions.map((b) => onnx.FunctionProto.decode(b));
  if (model.trainingInfo?.length) m.trainingInfo = model.trainingInfo.map((b) => onnx.TrainingInfoProto.decode(b));
  setUnknownFields(m, model.unknownFields);
  const bytes = onnx.ModelProto.encode(m).finish();
  // protobufjs carves messages under 4 KB out of a shared 8 KB slab: copy those, so the model owns
  // its buffer (transferring a slab to another thread would detach it under every later write)
  const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const out: EncodedModel = { model: owned ? new Uint8Array(bytes.buffer, 0, bytes.length) : new Uint8Array(bytes) };
  if (sink) out.externalData = { location: sink.location, chunks: sink.chunks, size: sink.size };
  return out;
}

/** Encode a model; with `externalData`, large tensors go to one external file. */
export function encodeModel(model: Model, opts: EncodeModelOptions = {}): EncodedModel {
  const limit = opts.maxProtobufBytes ?? PROTOBUF_LIMIT;
  const data = opts.externalData ? 0 : tensorDataBytes(model.graph);
  if (data > limit) {
    throw new OnnxFormatError(
      `writeModel: the model holds ${data} bytes of tensor data, more than a protobuf can (${limit}); ` +
        'write it with external data ({ externalData: { location: "model.onnx.data" } }, or writeModelFile which does this itself)',
    );
  }
  const out = encodeModelUnchecked(model, opts);
  if (out.model.length > limit) {
    throw new OnnxFormatError(
      `writeModel: the encoded model is ${out.model.length} bytes, over the protobuf limit (${limit}); ` +
        (opts.externalData ? 'lower externalData.sizeThreshold' : 'write it with external data ({ externalData: { location: "model.onnx.data" } })'),
    );
  }
  return out;
}

/**
 * Encode a model to .onnx bytes (all data inline). Models over the 2 GiB protobuf limit must be
 * written with external data ({@link encodeModel} or `writeModelFile` from `@whittle/onnx/node`).
 */
export function writeModel(model: Model, opts: Omit<EncodeModelOptions, 'externalData'> = {}): Uint8Array {
  return encodeModel(model, opts).model;
}
