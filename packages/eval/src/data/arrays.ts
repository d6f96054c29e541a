/** Row slicing, concatenation and element-type conversion of {@link DataArray}s. */
import { type DType, type StorageArray, allocStorage, float16BitsToFloat32, float32ToFloat16Bits, isFloat, isInteger } from '@whittle/tensor';
import { DataError, type DataLocation } from './errors.js';
import { type DataArray, sizeOfShape } from './source.js';

/** Rows [from, to) of an array (a view, no copy). */
export function sliceRows(a: DataArray, from: number, to: number): DataArray {
  const per = sizeOfShape(a.shape.slice(1));
  return { data: a.data.subarray(from * per, to * per) as StorageArray, shape: [to - from, ...a.shape.slice(1)], dtype: a.dtype };
}

/** Arrays of the same dtype and trailing shape joined along axis 0 (one copy). */
export function concatRows(parts: readonly DataArray[]): DataArray {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const rows = parts.reduce((s, p) => s + p.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  const data = allocStorage(first.dtype, sizeOfShape(shape));
  let at = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return { data, shape, dtype: first.dtype };
}

function readAsNumber(a: DataArray, i: number): number {
  const v = a.data[i]!;
  if (typeof v === 'bigint') return Number(v);
  return a.dtype === 'float16' ? float16BitsToFloat32(v) : v;
}

/**
 * `a` converted to the element type a model input takes. Integers and floats widen or narrow
 * within their kind, integers become floats (pixels, counts); floats never silently become
 * integers (a {@link DataError} naming `where` says so).
 */
export function convertArray(a: DataArray, to: DType, input: string, where: DataLocation): DataArray {
  if (a.dtype === to) return a;
  const fromKind = isFloat(a.dtype) ? 'float' : isInteger(a.dtype) || a.dtype === 'bool' ? 'int' : 'other';
  const toKind = isFloat(to) ? 'float' : isInteger(to) || to === 'bool' ? 'int' : 'other';
  const ok = (fromKind === 'int' && (toKind === 'int' || toKind === 'float')) || (fromKind === 'float' && toKind === 'float');
  const supported = ['float32', 'float16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'int16', 'uint16', 'uint32', 'bool'];
  if (!ok || !supported.includes(to) || !supported.includes(a.dtype)) {
    throw new DataError(`input '${input}' takes ${to}, the data holds ${a.dtype}; write the data as ${to}`, where);
  }
  const n = a.data.length;
  const out = allocStorage(to, n);
  for (let i = 0; i < n; i++) {
    const v = readAsNumber(a, i);
    if (to === 'int64') (out as BigInt64Array)[i] = BigInt(Math.trunc(v));
    else if (to === 'float16') (out as Uint16Array)[i] = float32ToFloat16Bits(v);
    else (out as Float32Array)[i] = v;
  }
  return { data: out, shape: a.shape, dtype: to };
}

/** Element types a model input may declare that Whittle feeds. */
export function dtypeOfElemType(elemType: string | undefined): DType | undefined {
  const known: readonly string[] = ['float32', 'float16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'int16', 'uint16', 'uint32', 'bool'];
  return elemType !== undefined && known.includes(elemType) ? (elemType as DType) : undefined;
}
