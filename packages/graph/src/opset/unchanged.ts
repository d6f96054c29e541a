/**
 * Default-domain ops whose definition did not change meaning between the listed version and 21:
 * later versions only widened the accepted types, allowed negative axes, or added attributes
 * and optional inputs/outputs whose defaults keep the old behaviour (checked against the ONNX
 * operator changelog). The number is the lowest source version the converter accepts; a node
 * below it is refused (the versions before changed semantics: consumed_inputs, is_test, legacy
 * broadcasting, attribute forms without a rule here).
 */
export const UNCHANGED_SINCE: Readonly<Record<string, number>> = {
  // Unary math: 6 dropped consumed_inputs; later versions add types only.
  Abs: 6, Ceil: 6, Elu: 6, Exp: 6, Floor: 6, HardSigmoid: 6, LeakyRelu: 6, Log: 6, Neg: 6, Reciprocal: 6,
  Relu: 6, Selu: 6, Sigmoid: 6, Sqrt: 6, Tanh: 6, InstanceNormalization: 6, Tile: 6,
  // Variadic: 8 added numpy broadcasting (6 required equal shapes, which still work).
  Max: 6, Min: 6, Mean: 6, Sum: 6,
  // Trigonometric and hyperbolic.
  Sin: 7, Cos: 7, Tan: 7, Asin: 7, Acos: 7, Atan: 7, Sinh: 9, Cosh: 9, Asinh: 9, Acosh: 9, Atanh: 9,
  PRelu: 7, Multinomial: 7,
  // 7 removed output_sequence; 14 added layout (default 0, the old layout).
  LSTM: 7, GRU: 7, RNN: 7,
  Not: 1, Identity: 1, Transpose: 1, Flatten: 1, Shape: 1, Size: 1, Softsign: 1, Softplus: 1,
  SpaceToDepth: 1, DepthToSpace: 1, LRN: 1, LpNormalization: 1, GlobalAveragePool: 1, GlobalMaxPool: 1,
  GlobalLpPool: 2, LpPool: 2, MaxRoiPool: 1, Gather: 1, Constant: 1, MatMul: 1, Conv: 1,
  ArgMax: 1, ArgMin: 1, RandomNormal: 1, RandomUniform: 1, RandomNormalLike: 1, RandomUniformLike: 1,
  // 7 added count_include_pad, 10 ceil_mode, 19 dilations, 8 MaxPool's Indices output: defaults keep.
  AveragePool: 1, MaxPool: 1,
  // 11 (If) / 13 / 16 / 19 / 21 widened the types of branch outputs; subgraphs are converted too.
  If: 1,
  Concat: 4, Reshape: 5, Cast: 6, Expand: 8,
  ConstantOfShape: 9, NonZero: 9, Where: 9, Erf: 9, Sign: 9, IsNaN: 9, Shrink: 9, EyeLike: 9,
  Compress: 9, MeanVarianceNormalization: 9, MaxUnpool: 9, TfIdfVectorizer: 9,
  // 9 replaced the batched Scan-8 (sequence_lens, batch axis) by scan axes: older is refused.
  Scan: 9,
  Mod: 10, IsInf: 10, ReverseSequence: 10, ThresholdedRelu: 10, StringNormalizer: 10, NonMaxSuppression: 10,
  QuantizeLinear: 10, DequantizeLinear: 10, QLinearConv: 10, QLinearMatMul: 10, ConvInteger: 10, MatMulInteger: 10,
  // OneHot-11 wraps negative indices (9 gave all-off rows): only 11+ is accepted.
  OneHot: 11,
  Range: 11, CumSum: 11, Round: 11, Det: 11, Unique: 11, BitShift: 11, DynamicQuantizeLinear: 11,
  GatherElements: 11, ScatterElements: 11, GatherND: 11, ScatterND: 11,
  SequenceAt: 11, SequenceConstruct: 11, SequenceEmpty: 11, SequenceErase: 11, SequenceInsert: 11,
  SequenceLength: 11, SplitToSequence: 11, ConcatFromSequence: 11,
  // Loop-1 -> 11 changed the loop-carried/scan-output typing rules: not converted.
  Loop: 11,
  Einsum: 12, Celu: 12, GreaterOrEqual: 12, LessOrEqual: 12, SoftmaxCrossEntropyLoss: 12, NegativeLogLikelihoodLoss: 12,
  HardSwish: 14, Trilu: 14,
  CastLike: 15, Bernoulli: 15, Optional: 15, OptionalHasElement: 15, OptionalGetElement: 15,
  STFT: 17, BlackmanWindow: 17, HannWindow: 17, HammingWindow: 17, MelWeightMatrix: 17,
  SequenceMap: 17,
  BitwiseAnd: 18, BitwiseOr: 18, BitwiseXor: 18, BitwiseNot: 18, CenterCropPad: 18, Col2Im: 18, Mish: 18,
  DeformConv: 19,
  Gelu: 20, AffineGrid: 20, DFT: 20, ImageDecoder: 20, RegexFullMatch: 20, StringConcat: 20, StringSplit: 20,
};
