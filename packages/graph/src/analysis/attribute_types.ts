import type { AttributeValue } from '../ir/types.js';

type T = AttributeValue['type'];

const POOL: Record<string, T> = {
  auto_pad: 'string', kernel_shape: 'ints', pads: 'ints', strides: 'ints', dilations: 'ints', ceil_mode: 'int',
  count_include_pad: 'int', storage_order: 'int', p: 'int',
};
const CONV: Record<string, T> = {
  auto_pad: 'string', kernel_shape: 'ints', pads: 'ints', strides: 'ints', dilations: 'ints', group: 'int',
  output_padding: 'ints', output_shape: 'ints',
};
const REDUCE: Record<string, T> = { axes: 'ints', keepdims: 'int', noop_with_empty_axes: 'int' };

/**
 * Expected attribute types of common default-domain ops (the subset of the ONNX schemas the
 * validator checks). Attributes not listed are not type-checked.
 */
export const ATTRIBUTE_TYPES: Record<string, Record<string, T>> = {
  Conv: CONV,
  ConvTranspose: CONV,
  MaxPool: POOL,
  AveragePool: POOL,
  LpPool: POOL,
  Gemm: { alpha: 'float', beta: 'float', transA: 'int', transB: 'int' },
  BatchNormalization: { epsilon: 'float', momentum: 'float', training_mode: 'int' },
  LayerNormalization: { axis: 'int', epsilon: 'float', stash_type: 'int' },
  InstanceNormalization: { epsilon: 'float' },
  Transpose: { perm: 'ints' },
  Concat: { axis: 'int' },
  Gather: { axis: 'int' },
  GatherElements: { axis: 'int' },
  Flatten: { axis: 'int' },
  Softmax: { axis: 'int' },
  LogSoftmax: { axis: 'int' },
  Cast: { to: 'int', saturate: 'int' },
  Reshape: { allowzero: 'int', shape: 'ints' },
  Squeeze: { axes: 'ints' },
  Unsqueeze: { axes: 'ints' },
  Slice: { starts: 'ints', ends: 'ints', axes: 'ints' },
  Split: { axis: 'int', split: 'ints', num_outputs: 'int' },
  LeakyRelu: { alpha: 'float' },
  Elu: { alpha: 'float' },
  Selu: { alpha: 'float', gamma: 'float' },
  HardSigmoid: { alpha: 'float', beta: 'float' },
  Gelu: { approximate: 'string' },
  Clip: { min: 'float', max: 'float' },
  QuantizeLinear: { axis: 'int', saturate: 'int', block_size: 'int', output_dtype: 'int', precision: 'int' },
  DequantizeLinear: { axis: 'int', block_size: 'int', output_dtype: 'int' },
  ReduceSum: REDUCE, ReduceMean: REDUCE, ReduceMax: REDUCE, ReduceMin: REDUCE, ReduceProd: REDUCE,
  ReduceL1: REDUCE, ReduceL2: REDUCE, ReduceLogSum: REDUCE, ReduceLogSumExp: REDUCE, ReduceSumSquare: REDUCE,
  ArgMax: { axis: 'int', keepdims: 'int', select_last_index: 'int' },
  ArgMin: { axis: 'int', keepdims: 'int', select_last_index: 'int' },
  Pad: { mode: 'string', pads: 'ints', value: 'float' },
  Resize: { mode: 'string', coordinate_transformation_mode: 'string', nearest_mode: 'string', cubic_coeff_a: 'float', exclude_outside: 'int', extrapolation_value: 'float', antialias: 'int', axes: 'ints', keep_aspect_ratio_policy: 'string' },
  If: { then_branch: 'graph', else_branch: 'graph' },
  Loop: { body: 'graph' },
  Scan: { body: 'graph', num_scan_inputs: 'int', scan_input_axes: 'ints', scan_output_axes: 'ints', scan_input_directions: 'ints', scan_output_directions: 'ints' },
  Constant: { value: 'tensor', value_float: 'float', value_floats: 'floats', value_int: 'int', value_ints: 'ints', value_string: 'string', value_strings: 'strings' },
  ConstantOfShape: { value: 'tensor' },
  Dropout: { seed: 'int', ratio: 'float' },
  TopK: { axis: 'int', largest: 'int', sorted: 'int', k: 'int' },
  CumSum: { exclusive: 'int', reverse: 'int' },
  Einsum: { equation: 'string' },
  DepthToSpace: { blocksize: 'int', mode: 'string' },
  SpaceToDepth: { blocksize: 'int' },
  Shape: { start: 'int', end: 'int' },
};
