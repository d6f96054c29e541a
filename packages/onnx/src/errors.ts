import { WhittleError } from '@whittle/tensor';

/** Bytes that are not a valid ONNX model / TensorProto, or fields that contradict each other. */
export class OnnxFormatError extends WhittleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ONNX_FORMAT', message, options);
  }
}

/** External data that cannot be found, read, or does not match the tensor it belongs to. */
export class ExternalDataError extends WhittleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_EXTERNAL_DATA', message, options);
  }
}

/** A path (external-data location) that is absolute, climbs with `..`, or leaves the model folder. */
export class UnsafePathError extends WhittleError {
  constructor(message: string) {
    super('E_UNSAFE_PATH', message);
  }
}

/** A graph whose structure is broken: cycles, inputs never defined, duplicate outputs. */
export class GraphValidationError extends WhittleError {
  constructor(message: string) {
    super('E_GRAPH_INVALID', message);
  }
}
