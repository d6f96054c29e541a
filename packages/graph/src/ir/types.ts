import type { Tensor } from '@whittle/tensor';

/**
 * ONNX element types by name (TensorProto.DataType). Whittle computes with the ones that map to
 * a tensor DType; the rest pass through untouched as {@link RawTensor}s.
 */
export type OnnxDataType =
  | 'float32' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64' | 'string' | 'bool'
  | 'float16' | 'float64' | 'uint32' | 'uint64' | 'complex64' | 'complex128' | 'bfloat16'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'uint4' | 'int4'
  | 'float4e2m1' | 'float8e8m0' | 'uint2' | 'int2' | 'undefined';

/** A dimension: a number, a symbolic name (dim_param), or null when unknown. */
export type Dim = number | string | null;

/**
 * The type of a graph value. Tensors carry element type and (optional) shape; other ONNX types
 * (sequence, map, optional, sparse) keep their TypeProto bytes in `raw` so nothing is lost.
 */
export interface ValueType {
  readonly kind: 'tensor' | 'sequence' | 'map' | 'optional' | 'sparse' | 'unknown';
  /** Element type of a tensor (or sparse tensor). */
  readonly elemType?: OnnxDataType;
  /** Shape of a tensor; undefined when the shape is not known at all (rank unknown). */
  readonly shape?: readonly Dim[];
  /** Encoded onnx.TypeProto for non-tensor kinds (passed through on write). */
  readonly raw?: Uint8Array;
}

/** A named value with its type: graph inputs/outputs and value_info entries. */
export interface ValueInfo {
  name: string;
  type: ValueType | null;
  docString?: string;
  metadataProps?: Record<string, string>;
}

/**
 * An initializer whose element type Whittle does not compute with (float64, bfloat16, string,
 * float8, uint16/32/64, complex…): kept as raw little-endian bytes (or strings) and written back
 * unchanged.
 */
export interface RawTensor {
  readonly dataType: OnnxDataType;
  readonly dims: readonly number[];
  /** Little-endian raw bytes (ONNX raw_data layout) for numeric types. */
  readonly rawData?: Uint8Array;
  /** string_data for 'string' tensors. */
  readonly strings?: readonly Uint8Array[];
  readonly docString?: string;
  /**
   * Data left in an external file instead of loaded (`readModel(…, { deferExternal })`): tools
   * that stream large models load it one tensor at a time. Written back as the same reference.
   */
  readonly external?: ExternalTensorRef;
}

/**
 * Streaming access to tensor data for models too large to hold in memory (see `rewriteModelFile`
 * in @whittle/onnx/node): read unloaded input tensors one at a time, write new tensors piecewise
 * into the output's external data file.
 */
export interface TensorStreamIO {
  /** The bytes of an unloaded tensor (`t.external`); into `target` (a reusable buffer) when given. */
  load(t: RawTensor, name: string, target?: Uint8Array): Uint8Array;
  /** Start a tensor in the output data file; `write` appends bytes, `finish` returns its reference. */
  begin(): { write(bytes: Uint8Array): void; finish(): ExternalTensorRef };
  /**
   * The absolute path of the file holding an unloaded tensor's bytes (checked as `load` checks
   * it), for readers on other threads: its bytes are at `t.external.offset` there. Optional.
   */
  dataFile?(t: RawTensor, name: string): string;
}

/** Where a tensor's bytes live in an external data file (relative to the model's folder). */
export interface ExternalTensorRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** An attribute value, tagged with its ONNX AttributeType. */
export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string; bytes?: Uint8Array }
  | { type: 'tensor'; value: Tensor | RawTensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: (Tensor | RawTensor)[] }
  | { type: 'graphs'; value: Graph[] }
  /** Anything else (sparse tensors, type protos, ref_attr_name in functions): raw AttributeProto. */
  | { type: 'raw'; value: Uint8Array };

/** One node. Missing optional inputs/outputs are the empty string, as in ONNX. */
export interface Node {
  name: string;
  opType: string;
  /** '' (or 'ai.onnx') for the default domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
  docString?: string;
  overload?: string;
  metadataProps?: Record<string, string>;
  /** Encoded NodeProto fields Whittle does not model (e.g. device_configurations), passed through. */
  unknownFields?: Uint8Array[];
}

/**
 * A graph. `initializers` holds weights Whittle computes with as cpu Tensors; weights of other
 * element types are in `rawInitializers`. A name is in at most one of the two maps.
 */
export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** value_info entries (intermediate value types), by name. */
  valueInfo: Map<string, ValueInfo>;
  initializers: Map<string, Tensor>;
  rawInitializers: Map<string, RawTensor>;
  docString?: string;
  metadataProps?: Record<string, string>;
  /** Encoded sparse_initializer / quantization_annotation entries (passed through). */
  passthrough?: {
    sparseInitializers?: Uint8Array[];
    quantizationAnnotations?: Uint8Array[];
    /** Encoded GraphProto fields Whittle does not model. */
    unknownFields?: Uint8Array[];
    /** Per Tensor initializer: encoded TensorProto fields besides dims/type/data (doc_string, metadata_props). */
    initializerFields?: Record<string, Uint8Array[]>;
  };
}

export interface OpsetImport {
  domain: string;
  version: number;
}

/** A whole model: the graph plus model-level fields. */
export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadataProps: Record<string, string>;
  graph: Graph;
  /** Encoded onnx.FunctionProto entries (model-local functions), passed through. */
  functions?: Uint8Array[];
  /** Encoded onnx.TrainingInfoProto entries, passed through. */
  trainingInfo?: Uint8Array[];
  /** Encoded ModelProto fields Whittle does not model (e.g. configuration), passed through. */
  unknownFields?: Uint8Array[];
}
