/** NumPy .npy files for the page, read by @whittle/eval's reader (the CLI's) and typed for evaluation. */
import { type DataArray, readNpy as readNpyArray } from '@whittle/eval';

export interface NpyArray {
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;
  shape: number[];
  /** ONNX element type name of `data`. */
  type: 'float32' | 'int32' | 'int64' | 'uint8' | 'int8' | 'float16' | 'bool';
}

/**
 * A {@link DataArray} as evaluation data: int16/uint16/uint32 widen to int32 (a Uint16Array
 * stands for float16 bits on the page), other types keep their storage.
 */
export function toNpyArray(a: DataArray, file: string): NpyArray {
  const shape = [...a.shape];
  switch (a.dtype) {
    case 'float32':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'int8':
    case 'float16':
    case 'bool':
      return { data: a.data as NpyArray['data'], shape, type: a.dtype };
    case 'int16':
    case 'uint16':
    case 'uint32':
      return { data: Int32Array.from(a.data as ArrayLike<number>), shape, type: 'int32' };
    default:
      throw new Error(`${file}: element type ${a.dtype} is not supported for evaluation data`);
  }
}

/** Parse a .npy file; float64 becomes float32 (what models take), bool stays bool (uint8 storage). */
export function readNpy(bytes: Uint8Array, file = '.npy'): NpyArray {
  return toNpyArray(readNpyArray(bytes, file), file);
}
