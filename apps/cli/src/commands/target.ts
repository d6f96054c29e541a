/**
 * `--target`: the runtime a quantized model is meant for. Picks the pass options that run fast
 * there (for options the user did not give) and says when the requested format will run slower
 * than float32 there. What each runtime fuses, from onnxruntime's kernels and QDQ transformers:
 *
 * - ort-cpu / ort-wasm (the CPU execution provider, natively or as WebAssembly): static int8 QDQ
 *   fuses into QLinearConv / QGemm / QLinearMatMul / QLinearAdd, dynamic int8 into
 *   DynamicQuantizeMatMul / MatMulIntegerToFloat, MatMulNBits runs 4-bit weights fused
 *   (accuracy_level 4 = int8 activations, the fastest CPU path); sub-8-bit DequantizeLinear is
 *   not fused and float16 mostly runs through casts to float32.
 * - ort-webgpu: MatMulNBits, GatherBlockQuantized and float16 run on the GPU; MatMulInteger,
 *   ConvInteger and DynamicQuantizeLinear have no WebGPU kernels (they fall back to the CPU with
 *   copies each run), and the QLinear* fusions are CPU-only.
 * - transformers.js: onnxruntime-web; dtype q4/q4f16 (MatMulNBits) and fp16 for WebGPU, q8
 *   (dynamic int8) on its default wasm device.
 */

/** Runtimes `--target` accepts. */
export const TARGETS = ['ort-cpu', 'ort-wasm', 'ort-webgpu', 'transformers.js'] as const;
export type Target = (typeof TARGETS)[number];

/** What a target changes and says for one pass. */
export interface TargetAdvice {
  /** Pass options with the target's choices filled in where the user gave none. */
  options: Record<string, unknown>;
  /** Choices made (option = value: why). */
  notes: string[];
  /** The requested format will run slower than float32 on this target. */
  warnings: string[];
}

const gpu = (t: Target): boolean => t === 'ort-webgpu' || t === 'transformers.js';

/** Apply `target` to the options of `pass` (only options of its schema, `known`, that the user did not give are set). */
export function applyTarget(target: Target, pass: string, given: Readonly<Record<string, unknown>>, known: ReadonlySet<string>): TargetAdvice {
  const options: Record<string, unknown> = { ...given };
  const notes: string[] = [];
  const warnings: string[] = [];
  const pick = (key: string, value: unknown, why: string): void => {
    if (options[key] !== undefined || !known.has(key)) return;
    options[key] = value;
    notes.push(`${key} = ${JSON.stringify(value)}: ${why}`);
  };
  const where = target === 'transformers.js' ? 'transformers.js with device webgpu' : target;
  switch (pass) {
    case 'quantize-weights':
    case 'gptq': {
      const bits = typeof options.bits === 'number' ? options.bits : 4;
      const blockwise = options.granularity === undefined || options.granularity === 'block';
      // MatMulNBits is the default int4 format for MatMul/Gemm on every onnxruntime target. 8-bit
      // MatMulNBits is fast only with int8 activations (accuracy_level 4, CPU): without it
      // onnxruntime dequantizes per run (measured 0.14x of float32 on a d-512 encoder, 1 token)
      const nbits8 = target === 'ort-cpu' && pass === 'quantize-weights' && (options.accuracyLevel === undefined || options.accuracyLevel === 4);
      if (blockwise && (bits <= 4 || nbits8)) {
        pick('format', 'matmulnbits', `the default ${bits}-bit format for MatMul/Gemm weights on ${target} (give --format qdq for DequantizeLinear): MatMulNBits runs them fused; onnxruntime fuses DequantizeLinear only into MatMul, a Gemm's ${bits}-bit weights would be dequantized on every run (measured 9x slower than float32 on LeNet-300-100)`);
      }
      if (target === 'ort-cpu' && pass === 'quantize-weights' && options.format === 'matmulnbits') pick('accuracyLevel', 4, 'int8 activations in MatMulNBits, the fastest onnxruntime CPU path');
      if (options.format === 'qdq' && bits < 8) warnings.push(`${bits}-bit DequantizeLinear is not fused into Gemm on ${target}: a Gemm's weights are dequantized on every run, slower than float32 (measured 9x slower on LeNet-300-100 on CPU); use --format matmulnbits`);
      if (options.format === 'matmulnbits' && bits > 4 && (!nbits8 || options.accuracyLevel !== 4)) warnings.push(`${bits}-bit MatMulNBits without accuracy_level 4 (int8 activations, onnxruntime CPU) is dequantized on every run: measured 0.14x of float32 on CPU; use --bits 4, or --accuracy-level 4 on ort-cpu, or 'quantize dynamic' for int8`);
      break;
    }
    case 'quantize-dynamic':
      // the pass itself warns when Conv (ConvInteger, unfused in onnxruntime) dominates the model
      if (gpu(target)) warnings.push(`dynamic int8 emits MatMulInteger/ConvInteger/DynamicQuantizeLinear, which onnxruntime's WebGPU provider does not implement: on ${where} they fall back to the CPU with copies every run, slower than float32 on the GPU; use 'quantize weights --format matmulnbits' (q4) or 'quantize float16'`);
      break;
    case 'quantize-static':
    case 'qat':
      if (target === 'ort-cpu' || target === 'ort-wasm') pick('format', 'qdq', `onnxruntime's ${target === 'ort-wasm' ? 'WebAssembly ' : ''}CPU provider fuses the QDQ groups into QLinearConv/QGemm/QLinearMatMul`);
      if (gpu(target)) warnings.push(`static int8 runs fused only on onnxruntime's CPU provider: on ${where} it runs DequantizeLinear/QuantizeLinear around float ops (or CPU fallback for QLinear* ops), slower than float32; use 'quantize weights --format matmulnbits' or 'quantize float16'`);
      break;
    case 'convert-float16':
      if (!gpu(target)) warnings.push(`onnxruntime's ${target} provider has few float16 kernels and runs most of the model through Cast to float32 and back: half the file size, slower than float32; use int8 (quantize static/dynamic) for speed there`);
      break;
    case 'cluster-weights':
      warnings.push(`clustered weights are stored as float32 (or a small codebook + indices) and computed in float32 on ${target}: a smaller (gzip) file, not faster`);
      break;
    default:
      break;
  }
  return { options, notes, warnings };
}
