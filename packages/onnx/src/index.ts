/**
 * @whittle/onnx — ONNX model bytes ⇄ the Whittle graph IR, external data, TensorProto .pb files.
 * Browser-safe: bytes in, bytes out. File access (external data on disk, atomic writes) is in
 * `@whittle/onnx/node`.
 * @module
 */
export { OnnxFormatError, ExternalDataError, UnsafePathError, GraphValidationError } from './errors.js';
export {
  readModel,
  writeModel,
  encodeModel,
  tensorDataBytes,
  PROTOBUF_LIMIT,
  type ReadModelOptions,
  type EncodeModelOptions,
  type EncodedModel,
  type ExternalDataOptions,
} from './model.js';
export { checkLocation, checkRange, type ExternalDataLoader, type ExternalDataSource } from './external.js';
export { inlineLocalFunctions, type InlineFunctionsResult } from './inline_functions.js';
export {
  readTensorProto,
  writeTensorProto,
  readSequenceProto,
  readOptionalProto,
  readMapProto,
  readValueProto,
  type OnnxValue,
  type SequenceValue,
  type OptionalValue,
  type MapValue,
  type SparseTensorValue,
  type ValueKind,
  type ReadPbOptions,
} from './pb.js';
export { decodeTensor, encodeTensor, isRawTensor, elementCount } from './tensor_io.js';
export { dataTypeName, dataTypeNumber, dataTypeBits, rawByteLength, computeDType } from './datatype.js';
export { validateGraph } from './validate.js';
/** Protobuf wire-format reading and writing, field by field (for tools working below the schema). */
export { WireReader, WireWriter, readFields, type WireField, WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_I32 } from './wire.js';
export { constantValue } from './constant.js';
export { ortActivationRuntime, type OrtModuleLike, type OrtTensorLike, type OrtActivationRuntimeOptions } from './ort_activations.js';
