/** Transformers.js file naming (browser-safe part of the layout writer). */
import { LayoutError } from './errors.js';

/**
 * Transformers.js `dtype` → file name suffix (its DEFAULT_DTYPE_SUFFIX_MAPPING): the file is
 * `onnx/<model_file_name><suffix>.onnx`, e.g. q8 → `onnx/model_quantized.onnx`.
 */
export const TRANSFORMERS_JS_DTYPE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  q2: '_q2',
  q2f16: '_q2f16',
  bnb4: '_bnb4',
} as const;

/** A Transformers.js dtype. */
export type TransformersJsDtype = keyof typeof TRANSFORMERS_JS_DTYPE_SUFFIX;

/** Relative path Transformers.js loads for a dtype, e.g. ('q4') → 'onnx/model_q4.onnx'. */
export function transformersJsPath(dtype: TransformersJsDtype, modelFileName = 'model'): string {
  const suffix = (TRANSFORMERS_JS_DTYPE_SUFFIX as Record<string, string>)[dtype];
  if (suffix === undefined) {
    throw new LayoutError(`unknown Transformers.js dtype '${dtype}'; use one of ${Object.keys(TRANSFORMERS_JS_DTYPE_SUFFIX).join(', ')}`);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(modelFileName)) throw new LayoutError(`model file name '${modelFileName}' must be a plain name (letters, digits, _ . -)`);
  return `onnx/${modelFileName}${suffix}.onnx`;
}

/** The dtypes `whittle export-transformers` can write, in the order it writes them. */
export const TRANSFORMERS_JS_VARIANTS = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'q2', 'q2f16', 'bnb4'] as const;
/** A dtype `whittle export-transformers` writes. */
export type TransformersJsVariant = (typeof TRANSFORMERS_JS_VARIANTS)[number];
/**
 * The dtypes written when none are asked for: one of each kind (int8 and uint8 are q8 with a set
 * weight type, for those who load them by name; q2 / q2f16 lose much more than q4 and are for
 * those who measured that they can).
 */
export const TRANSFORMERS_JS_DEFAULT_VARIANTS: readonly TransformersJsVariant[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];

/** One Whittle pass of a variant's recipe. */
export interface TransformersJsStep {
  pass: string;
  options: Record<string, unknown>;
}

/** How one dtype is made: its file, the passes (none for fp32) and what they do. */
export interface TransformersJsVariantPlan {
  dtype: TransformersJsVariant;
  /** Path inside the model folder, e.g. `onnx/model_q4.onnx`. */
  path: string;
  steps: TransformersJsStep[];
  description: string;
}

/** Options of {@link transformersJsVariantPlan}. */
export interface TransformersJsPlanOptions {
  /** MatMulBnb4 block size of bnb4 (default 64, as onnxruntime's MatMulBnb4Quantizer). */
  bnb4BlockSize?: number;
  /** MatMulNBits / GatherBlockQuantized block size of q4 and q4f16 (default 32, as onnxruntime's MatMul4BitsQuantizer). */
  blockSize?: number;
  /** MatMulNBits accuracy_level of q4 / q4f16 (default 0: unset; 4 = int8 activations, faster on onnxruntime CPU). */
  accuracyLevel?: number;
  /** File name stem (default 'model'). */
  modelFileName?: string;
  /**
   * fp16 / q4f16 keep float32 graph inputs and outputs (Casts at the edges), as Transformers.js'
   * own conversions of encoders do: its pipelines pool and normalize hidden states in JavaScript,
   * which reads float16 data as raw bits where there is no Float16Array (Node 20). Default false:
   * float16 in and out, as decoders' KV caches want.
   */
  keepFloat32Io?: boolean;
  /**
   * q4 / q4f16 are made from a model whose weights are already int8 (dynamic-int8 MatMulInteger,
   * QDQ weights, a uint8 token table): those weights are re-quantized to 4 bits from their
   * dequantized values (rounded twice), a tied token table once for its Gather and its head.
   */
  requantizeInt8?: boolean;
}

/**
 * The passes that make a dtype, as the ONNX community's Transformers.js exports do: q4 =
 * 4-bit block-wise weights as com.microsoft MatMulNBits (MatMul/Gemm) and GatherBlockQuantized
 * (embedding tables), ops onnxruntime-web's WebGPU provider implements; q4f16 = the same with
 * every other float in float16; fp16 = float16 weights and activations (float16 inputs/outputs,
 * as Optimum's fp16 exports); q8 = dynamic int8 (DynamicQuantizeLinear + MatMulInteger, the
 * wasm default of Transformers.js); int8 / uint8 = the same with signed / unsigned weights (uint8
 * also ConvInteger); bnb4 = NF4 MatMul/Gemm weights as com.microsoft MatMulBnb4 (CPU and wasm).
 */
export function transformersJsVariantPlan(dtype: TransformersJsVariant, opts: TransformersJsPlanOptions = {}): TransformersJsVariantPlan {
  const q4: TransformersJsStep = {
    pass: 'quantize-weights',
    options: { bits: 4, granularity: 'block', blockSize: opts.blockSize ?? 32, format: 'matmulnbits', symmetric: true, ops: ['MatMul', 'Gemm', 'Gather'], ...(opts.accuracyLevel ? { accuracyLevel: opts.accuracyLevel } : {}), ...(opts.requantizeInt8 ? { requantizeInt8: true } : {}) },
  };
  // 2-bit: an asymmetric grid (a symmetric one has 3 levels); MatMulNBits stores 2-bit codes,
  // GatherBlockQuantized tables keep 4-bit containers
  const q2: TransformersJsStep = { pass: 'quantize-weights', options: { ...q4.options, bits: 2, symmetric: false } };
  const from = opts.requantizeInt8 ? ' re-quantized from the int8 weights' : '';
  const fp16: TransformersJsStep = { pass: 'convert-float16', options: { keepIoTypes: opts.keepFloat32Io ?? false } };
  const plans: Record<TransformersJsVariant, Omit<TransformersJsVariantPlan, 'dtype' | 'path'>> = {
    fp32: { steps: [], description: 'the input model, float32' },
    fp16: { steps: [fp16], description: `float16 weights and activations${opts.keepFloat32Io ? ', float32 outputs' : ''}` },
    q8: { steps: [{ pass: 'quantize-dynamic', options: { weightType: 'int8', ops: ['MatMul', 'Gemm', 'Gather'] } }], description: 'dynamic int8 (MatMulInteger; CPU/wasm)' },
    int8: { steps: [{ pass: 'quantize-dynamic', options: { weightType: 'int8', ops: ['MatMul', 'Gemm', 'Gather'] } }], description: 'dynamic int8, signed weights (MatMulInteger; CPU/wasm)' },
    // Transformers.js' uint8 also quantizes convolutions (ConvInteger takes uint8 weights)
    uint8: { steps: [{ pass: 'quantize-dynamic', options: { weightType: 'uint8', ops: ['MatMul', 'Gemm', 'Conv', 'Gather'] } }], description: 'dynamic int8, unsigned weights (MatMulInteger, ConvInteger; CPU/wasm)' },
    q4: { steps: [q4], description: `4-bit weights${from} in blocks of ${String(q4.options.blockSize)} (MatMulNBits, GatherBlockQuantized), float32 activations` },
    q4f16: { steps: [q4, fp16], description: `4-bit weights${from} in blocks of ${String(q4.options.blockSize)} (MatMulNBits, GatherBlockQuantized), float16 activations${opts.keepFloat32Io ? ', float32 outputs' : ''}` },
    q2: { steps: [q2], description: `2-bit asymmetric weights${from} in blocks of ${String(q4.options.blockSize)} (MatMulNBits; tables in 4-bit GatherBlockQuantized), float32 activations` },
    // NF4 in blocks of 64 (the Python bnb4 quantizer's default; CPU / wasm only: no WebGPU kernel)
    bnb4: { steps: [{ pass: 'quantize-bnb4', options: { quantType: 'nf4', blockSize: opts.bnb4BlockSize ?? 64 } }], description: `NF4 weights in blocks of ${String(opts.bnb4BlockSize ?? 64)} (MatMulBnb4; CPU/wasm)` },
    q2f16: { steps: [q2, fp16], description: `2-bit asymmetric weights${from} in blocks of ${String(q4.options.blockSize)} (MatMulNBits; tables in 4-bit GatherBlockQuantized), float16 activations${opts.keepFloat32Io ? ', float32 outputs' : ''}` },
  };
  const p = plans[dtype];
  if (!p) throw new LayoutError(`Transformers.js dtype '${String(dtype)}' cannot be written; choose from ${TRANSFORMERS_JS_VARIANTS.join(', ')}`);
  // quantized dtypes untie shared weights first: an LM head tied to the token embedding gets its
  // own copy, which the second normalize folds with its Transpose into a [K, N] weight for
  // MatMulNBits / MatMulInteger, instead of a float MatMul transposing the table on every call
  const untie = dtype !== 'fp32' && dtype !== 'fp16';
  // (only readers the passes quantize: rotary caches shared by every attention node stay one copy)
  const steps = untie ? [{ pass: 'normalize', options: { untieSharedWeights: true, untieOpTypes: [...UNTIED_READERS] } }, { pass: 'normalize', options: {} }, ...p.steps] : p.steps;
  return { dtype, path: transformersJsPath(dtype, opts.modelFileName), ...p, steps };
}

/** Readers of a shared weight that get their own copy before quantizing: the quantized ops, and the Transpose of a tied LM head. */
const UNTIED_READERS = ['Gather', 'Transpose', 'MatMul', 'Gemm'] as const;

/** Parse a comma-separated dtype list ('fp32,q4'), refusing unknown and repeated names. */
export function parseTransformersJsVariants(list: string): TransformersJsVariant[] {
  const out: TransformersJsVariant[] = [];
  for (const raw of list.split(',')) {
    const d = raw.trim();
    if (!(TRANSFORMERS_JS_VARIANTS as readonly string[]).includes(d)) throw new LayoutError(`unknown variant '${d}' in '${list}'; choose from ${TRANSFORMERS_JS_VARIANTS.join(', ')}`);
    if (out.includes(d as TransformersJsVariant)) throw new LayoutError(`variant '${d}' is listed twice in '${list}'`);
    out.push(d as TransformersJsVariant);
  }
  return out;
}

/** Ops onnxruntime-web's WebGPU provider has no kernel for (they fall back to the CPU, or fail). */
export const WEBGPU_UNSUPPORTED_OPS: ReadonlySet<string> = new Set(['MatMulInteger', 'ConvInteger', 'DynamicQuantizeLinear', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul', 'QLinearConv', 'QGemm', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QLinearConcat', 'QLinearSoftmax']);
