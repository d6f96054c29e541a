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
