/**
 * A Transformers.js / Optimum model folder's sub-models (browser-safe): `onnx/` holds one file per
 * sub-model and dtype — `encoder_model.onnx`, `encoder_model_quantized.onnx`,
 * `decoder_model_merged_q4.onnx`, … — and new variants of each sub-model are made from the best
 * source it has: the float32 file, or, when the folder ships only int8 (`_quantized`, `_int8`,
 * `_uint8`, as many Hub repositories do), the int8 file re-quantized to 4 bits.
 */
import { LayoutError } from './errors.js';
import { TRANSFORMERS_JS_DTYPE_SUFFIX, type TransformersJsDtype, type TransformersJsVariant } from './transformers_js.js';

/** One sub-model of a folder: its file stem and the file of each dtype the folder has. */
export interface TransformersJsSubModel {
  /** File name stem, e.g. 'decoder_model_merged' (Transformers.js' model_file_name). */
  stem: string;
  /** File name (inside onnx/) by dtype. */
  files: Partial<Record<TransformersJsDtype, string>>;
}

// longest suffix first: '_q4f16' is not read as '_q4' of a stem ending 'f16'
const SUFFIXES = (Object.entries(TRANSFORMERS_JS_DTYPE_SUFFIX) as [TransformersJsDtype, string][]).filter(([, s]) => s !== '').sort((a, b) => b[1].length - a[1].length);

/** The dtype and stem a file name of `onnx/` stands for ('encoder_model_q4.onnx' → q4, 'encoder_model'); undefined for other files. */
export function parseTransformersJsFileName(file: string): { stem: string; dtype: TransformersJsDtype } | undefined {
  if (!file.endsWith('.onnx')) return undefined;
  const base = file.slice(0, -'.onnx'.length);
  for (const [dtype, suffix] of SUFFIXES) if (base.endsWith(suffix) && base.length > suffix.length) return { stem: base.slice(0, -suffix.length), dtype };
  return base.length ? { stem: base, dtype: 'fp32' } : undefined;
}

/** Group the .onnx files of a folder's `onnx/` into sub-models, by stem (sorted). */
export function transformersJsSubModels(files: readonly string[]): TransformersJsSubModel[] {
  const byStem = new Map<string, TransformersJsSubModel>();
  for (const f of files) {
    const p = parseTransformersJsFileName(f);
    if (!p) continue;
    const sub = byStem.get(p.stem) ?? { stem: p.stem, files: {} };
    sub.files[p.dtype] = f;
    byStem.set(p.stem, sub);
  }
  return [...byStem.values()].sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
}

/** Where a variant of a sub-model comes from. */
export type FolderVariantSource =
  /** Made by the variant's passes from the float32 file. */
  | { kind: 'float32'; file: string }
  /** Made from the int8 file: its int8 weights re-quantized to 4 bits (rounded twice). */
  | { kind: 'int8'; file: string }
  /** The folder already has this file (a q8 `_quantized` file with no float32 to make it from): copied. */
  | { kind: 'copy'; file: string };

const INT8_DTYPES: readonly TransformersJsDtype[] = ['q8', 'int8', 'uint8'];
/** Dtypes an int8 file's weights can be re-quantized to (block-wise MatMulNBits / GatherBlockQuantized). */
const REQUANTIZABLE: readonly TransformersJsVariant[] = ['q4', 'q4f16', 'q2', 'q2f16'];

/**
 * The source of `dtype` for a sub-model: its float32 file; without one, an int8 file for q4 / q4f16
 * / q2 / q2f16 (re-quantized) and the existing file for q8, int8 and uint8. Throws a {@link LayoutError} naming the
 * sub-model when the folder holds nothing the dtype can be made from.
 */
export function folderVariantSource(sub: TransformersJsSubModel, dtype: TransformersJsVariant): FolderVariantSource {
  const fp32 = sub.files.fp32;
  if (fp32) return { kind: 'float32', file: fp32 };
  const have = Object.values(sub.files).join(', ');
  if (INT8_DTYPES.includes(dtype) && sub.files[dtype]) return { kind: 'copy', file: sub.files[dtype] };
  const int8 = INT8_DTYPES.map((d) => sub.files[d]).find((f) => f !== undefined);
  if (REQUANTIZABLE.includes(dtype) && int8) return { kind: 'int8', file: int8 };
  const copies = INT8_DTYPES.filter((d) => sub.files[d]);
  const makeable = int8 ? `${REQUANTIZABLE.join(', ')} (re-quantized from ${int8})${copies.length ? `, ${copies.join(', ')} (copied)` : ''}` : 'none';
  throw new LayoutError(`sub-model '${sub.stem}' has no float32 file (${sub.stem}.onnx) to make ${dtype} from, only ${have}; dtypes it can have: ${makeable}`);
}
