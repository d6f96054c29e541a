/**
 * The kernel contract in one place: every kernel name and the attributes its op passes, its cpu
 * and webgpu kernels read and its gradient sees (like tfjs's kernel_names.ts). `runKernel`,
 * `KernelConfig`, `registerGradient` and the gradient tables are typed by this map, so a kernel
 * and its op cannot disagree about an attribute without a compile error.
 * @module
 */
import type { BackendName } from './backend.js';
import type { DType } from './dtype.js';
import type { E8m0RoundMode } from './float_formats/e8m0.js';
import type { Shape } from './shape.js';

/** Attributes of a kernel that takes none. */
export type NoAttrs = Readonly<Record<string, never>>;

/**
 * Geometry of a 2-D sliding window over an NCHW input (Im2Col; 2-D Col2Im/pooling use it too).
 */
export interface Window2d {
  /** Kernel size [kh, kw]. */
  readonly kernel: [number, number];
  /** Strides [sh, sw]. */
  readonly strides: [number, number];
  /** Pads [top, left, bottom, right] (ONNX order: begins then ends). */
  readonly pads: [number, number, number, number];
  /** Dilations [dh, dw]. */
  readonly dilations: [number, number];
  /** Number of window positions [OH, OW]. */
  readonly outShape: [number, number];
}

/** Geometry of an N-d sliding window over [N, C, D1, ..., Dn] (n = kernel.length). */
export interface WindowNd {
  /** Kernel size per spatial axis. */
  readonly kernel: readonly number[];
  /** Strides per spatial axis. */
  readonly strides: readonly number[];
  /** Pads [begin per axis..., end per axis...] (ONNX order). */
  readonly pads: readonly number[];
  /** Dilations per spatial axis. */
  readonly dilations: readonly number[];
  /** Number of window positions per spatial axis. */
  readonly outShape: readonly number[];
}

/** Pad modes (ONNX Pad). */
export type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

/** Scalars of one Adam/AdamW step (bias corrections precomputed by the optimizer). */
export interface AdamAttrs {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** AdamW: decay the parameter directly instead of adding weightDecay·p to the gradient. */
  readonly decoupled: boolean;
  /** 1 − beta1^t */
  readonly bc1: number;
  /** 1 − beta2^t */
  readonly bc2: number;
}

/** Scalars of one SGD step. */
export interface SgdAttrs {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** First step with momentum: the buffer starts as the gradient (torch semantics). */
  readonly first: boolean;
}

/** Where a (de)quantization scale applies: one value, one per `axis` index, or blocks along `axis`. */
export interface QuantScaleAttrs {
  readonly mode: 'tensor' | 'axis' | 'block';
  readonly axis: number;
  /** Block size along `axis` ('block' mode; 0 otherwise). */
  readonly blockSize: number;
}

/** A reduction over normalized, sorted `axes`. */
export interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

/** An op along one normalized axis. */
export interface AxisAttrs {
  readonly axis: number;
}

/** Start and step per axis of a strided slice. */
export interface SliceSpec {
  readonly starts: readonly number[];
  readonly steps: readonly number[];
}

/** Element-wise binary kernels (broadcasting; comparisons and logic give bool). */
export type BinaryKernelName =
  | 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Max' | 'Min'
  | 'Equal' | 'Less' | 'Greater' | 'LessOrEqual' | 'GreaterOrEqual' | 'And' | 'Or' | 'Xor';

/** Element-wise unary kernels without attributes. */
export type PlainUnaryKernelName =
  | 'Neg' | 'Abs' | 'Exp' | 'Log' | 'Sqrt' | 'Reciprocal' | 'Sin' | 'Cos' | 'Floor' | 'Ceil' | 'Round'
  | 'Sign' | 'Relu' | 'Sigmoid' | 'Tanh' | 'Erf' | 'HardSwish' | 'Softplus' | 'Not';

/** Element-wise unary kernels (output dtype = input dtype). */
export type UnaryKernelName = PlainUnaryKernelName | 'Gelu' | 'LeakyRelu' | 'HardSigmoid';

/** Reduction kernels. */
export type ReduceKernelName =
  | 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd'
  | 'ReduceL1' | 'ReduceL2' | 'ReduceSumSquare' | 'ReduceLogSumExp';

/** Every kernel name → the attributes its op passes and its kernels and gradient read. */
export type KernelAttrs = { readonly [N in BinaryKernelName | PlainUnaryKernelName]: NoAttrs } & {
  readonly [N in ReduceKernelName]: ReduceAttrs;
} & {
  /** approximate: 'tanh' for the tanh form; anything else is the exact erf form. */
  readonly Gelu: { readonly approximate?: string };
  /** alpha: slope for x < 0 (default 0.01). */
  readonly LeakyRelu: { readonly alpha?: number };
  /** max(0, min(1, alpha·x + beta)); defaults 0.2 and 0.5 as in ONNX. */
  readonly HardSigmoid: { readonly alpha?: number; readonly beta?: number };
  /** Missing bound: unbounded on that side. */
  readonly Clip: { readonly min?: number; readonly max?: number };
  readonly Contiguous: NoAttrs;
  readonly Where: NoAttrs;
  readonly Cast: { readonly to: DType; readonly saturate?: boolean; readonly roundMode?: E8m0RoundMode };
  readonly ArgMax: AxisAttrs & { readonly keepDims: boolean; readonly selectLastIndex: boolean };
  readonly ArgMin: AxisAttrs & { readonly keepDims: boolean; readonly selectLastIndex: boolean };
  readonly Softmax: AxisAttrs;
  readonly LogSoftmax: AxisAttrs;
  readonly Concat: AxisAttrs;
  /** A strided copy: output `shape`, read at starts + i·steps. */
  readonly Slice: SliceSpec & { readonly shape: Shape };
  /** Zeros of `inputShape` with the input written at starts + i·steps (a slice's adjoint). */
  readonly ScatterSlice: SliceSpec & { readonly inputShape: Shape };
  readonly Gather: AxisAttrs;
  readonly GatherElements: AxisAttrs;
  readonly ScatterElements: AxisAttrs & { readonly reduction: 'none' | 'add' };
  readonly TopK: AxisAttrs & { readonly k: number; readonly largest: boolean };
  /** values: [off, on]. */
  readonly OneHot: AxisAttrs & { readonly depth: number; readonly values: readonly [number, number] };
  readonly MatMul: { readonly transA: boolean; readonly transB: boolean };
  readonly Gemm: { readonly alpha: number; readonly beta: number; readonly transA: boolean; readonly transB: boolean };
  readonly Im2Col: Window2d;
  /** Inputs x [N, C, H, W], w [M, C*kh*kw], optional bias [M] → [N, M, OH*OW] (im2col + GEMM in one). */
  readonly Conv2dFused: Window2d;
  /** imageShape: the spatial dims of the image the columns fold back into. */
  readonly Col2Im: WindowNd & { readonly imageShape: readonly number[] };
  /** Outputs the max values and their flat indices per (n, c) plane. */
  readonly MaxPool: WindowNd;
  /** MaxPool's adjoint: scatter-adds the gradient at the indices into zeros of imageShape. */
  readonly MaxUnpoolAdd: WindowNd & { readonly imageShape: readonly number[] };
  readonly AveragePool: WindowNd & { readonly countIncludePad: boolean };
  readonly GlobalAveragePool: NoAttrs;
  readonly GlobalMaxPool: NoAttrs;
  readonly BatchNormalization: { readonly epsilon: number };
  /** pads: [begin per axis..., end per axis...]; negative pads crop. value: the fill of 'constant'. */
  readonly Pad: { readonly pads: readonly number[]; readonly mode: PadMode; readonly value: number };
  /** Pad's adjoint for the non-constant modes: folds the padded gradient back onto inputShape. */
  readonly PadAdjoint: { readonly inputShape: Shape; readonly pads: readonly number[]; readonly mode: PadMode };
  /** dtype: the integer output dtype. */
  readonly QuantizeLinear: QuantScaleAttrs & { readonly dtype: DType };
  readonly DequantizeLinear: QuantScaleAttrs;
  readonly DynamicQuantizeLinear: NoAttrs;
  readonly AdamUpdate: AdamAttrs;
  readonly SgdUpdate: SgdAttrs;
};

/** A kernel name (an ONNX op type where one exists). */
export type KernelName = keyof KernelAttrs;

/**
 * Ops recorded on the autograd tape without a kernel: views over their input's storage
 * (`engine().view`). They have a gradient but nothing to run.
 */
export interface ViewAttrs {
  /** shape: the input's shape (the gradient reshapes back to it). */
  readonly Reshape: { readonly shape: Shape };
  readonly Transpose: { readonly perm: readonly number[] };
  /** shape: the input's shape (the gradient sums over the broadcast axes). */
  readonly Expand: { readonly shape: Shape };
  readonly SliceView: SliceSpec & { readonly inputShape: Shape };
}

/** A view op name. */
export type ViewName = keyof ViewAttrs;

/** Attributes of everything the tape can record: kernels and views. */
export type OpAttrs = KernelAttrs & ViewAttrs;

/** A name the autograd tape records (and a gradient is registered under). */
export type OpName = keyof OpAttrs;

// A value listing every key of KernelAttrs: the compiler rejects a missing or unknown name, so
// the runtime list below cannot drift from the type.
const KERNEL_NAME_SET: { readonly [N in KernelName]: true } = {
  Add: true, Sub: true, Mul: true, Div: true, Pow: true, Max: true, Min: true,
  Equal: true, Less: true, Greater: true, LessOrEqual: true, GreaterOrEqual: true, And: true, Or: true, Xor: true,
  Neg: true, Abs: true, Exp: true, Log: true, Sqrt: true, Reciprocal: true, Sin: true, Cos: true, Floor: true, Ceil: true,
  Round: true, Sign: true, Relu: true, Sigmoid: true, Tanh: true, Erf: true, HardSwish: true, Softplus: true, Not: true,
  Gelu: true, LeakyRelu: true, HardSigmoid: true, Clip: true,
  ReduceSum: true, ReduceMean: true, ReduceMax: true, ReduceMin: true, ReduceProd: true,
  ReduceL1: true, ReduceL2: true, ReduceSumSquare: true, ReduceLogSumExp: true,
  Contiguous: true, Where: true, Cast: true, ArgMax: true, ArgMin: true, Softmax: true, LogSoftmax: true, Concat: true,
  Slice: true, ScatterSlice: true, Gather: true, GatherElements: true, ScatterElements: true, TopK: true, OneHot: true,
  MatMul: true, Gemm: true, Im2Col: true, Conv2dFused: true, Col2Im: true, MaxPool: true, MaxUnpoolAdd: true, AveragePool: true,
  GlobalAveragePool: true, GlobalMaxPool: true, BatchNormalization: true, Pad: true, PadAdjoint: true,
  QuantizeLinear: true, DequantizeLinear: true, DynamicQuantizeLinear: true, AdamUpdate: true, SgdUpdate: true,
};

const VIEW_NAME_SET: { readonly [N in ViewName]: true } = { Reshape: true, Transpose: true, Expand: true, SliceView: true };

/** Every kernel name of the contract. */
export const KERNEL_NAMES: readonly KernelName[] = Object.keys(KERNEL_NAME_SET).filter(isKernelName);

/** Every view op name. */
export const VIEW_NAMES: readonly ViewName[] = Object.keys(VIEW_NAME_SET).filter((n): n is ViewName => n in VIEW_NAME_SET);

/** Whether `name` is a kernel name of the contract. */
export function isKernelName(name: string): name is KernelName {
  return Object.prototype.hasOwnProperty.call(KERNEL_NAME_SET, name);
}

/**
 * Kernels without a gradient, each with the reason. Every other kernel (and every view) has one;
 * a test checks the registered gradients against this list.
 */
export const NOT_DIFFERENTIABLE: { readonly [N in KernelName]?: string } = {
  Equal: 'a bool comparison', Less: 'a bool comparison', Greater: 'a bool comparison',
  LessOrEqual: 'a bool comparison', GreaterOrEqual: 'a bool comparison',
  And: 'bool logic', Or: 'bool logic', Xor: 'bool logic', Not: 'bool logic',
  ArgMax: 'integer indices', ArgMin: 'integer indices', OneHot: 'integer indices in, constants out',
  MaxUnpoolAdd: 'only runs inside the MaxPool gradient (never recorded with a trainable input)',
  QuantizeLinear: 'integer output',
  DequantizeLinear: 'integer input',
  DynamicQuantizeLinear: 'integer output',
  AdamUpdate: 'an optimizer step (runs outside the tape)',
  SgdUpdate: 'an optimizer step (runs outside the tape)',
  Conv2dFused: 'conv2d runs it only when no input needs a gradient (else Im2Col + MatMul/Gemm)',
};

/**
 * Kernels registered on one backend only, each with the reason; a test checks the registered
 * lists against this.
 */
export const BACKEND_ONLY: { readonly [N in KernelName]?: { readonly backend: BackendName; readonly reason: string } } = {
  Conv2dFused: { backend: 'cpu', reason: 'keeps the columns in WASM linear memory between unfold and GEMM (no column tensor); conv2d uses it on cpu only' },
};

/** The unary kernel names (runtime list of {@link UnaryKernelName}). */
export const UNARY_KERNEL_NAMES: readonly UnaryKernelName[] = [
  'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Sin', 'Cos', 'Floor', 'Ceil', 'Round', 'Sign', 'Relu', 'Sigmoid',
  'Tanh', 'Erf', 'Gelu', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Not',
];

/** The reduction kernel names (runtime list of {@link ReduceKernelName}). */
export const REDUCE_KERNEL_NAMES: readonly ReduceKernelName[] = [
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp',
];
