/**
 * NumPy `.npy` arrays (little-endian numeric, C order): the header is parsed first, the data is
 * read row block by row block, so a large calibration array never sits in memory whole.
 */
import type { DType, StorageArray } from '@whittle/tensor';
import { DataError } from './errors.js';
import type { DataArray } from './source.js';
import { sizeOfShape } from './source.js';

/** A parsed `.npy` header: where the data starts, its element type and shape. */
export interface NpyHeader {
  /** Byte offset of the data. */
  offset: number;
  /** numpy descr without byte-order mark, e.g. 'f4'. */
  kind: string;
  /** Bytes per element as stored. */
  width: number;
  /** The element type the data is read as (float64 → float32, bool stays bool). */
  dtype: DType;
  shape: number[];
}

const KINDS: Record<string, { width: number; dtype: DType }> = {
  f4: { width: 4, dtype: 'float32' },
  f8: { width: 8, dtype: 'float32' },
  f2: { width: 2, dtype: 'float16' },
  i4: { width: 4, dtype: 'int32' },
  i8: { width: 8, dtype: 'int64' },
  i2: { width: 2, dtype: 'int16' },
  u2: { width: 2, dtype: 'uint16' },
  u4: { width: 4, dtype: 'uint32' },
  i1: { width: 1, dtype: 'int8' },
  u1: { width: 1, dtype: 'uint8' },
  b1: { width: 1, dtype: 'bool' },
};

/** Parse the header of a `.npy` file from its first bytes (at least the whole header). */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new DataError('not a .npy file (the magic \\x93NUMPY is missing); save it with numpy.save', { file });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const start = major === 1 ? 10 : 12;
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (bytes.length < start + len) throw new DataError(`.npy header is truncated (${bytes.length} bytes, the header needs ${start + len})`, { file });
  const dict = new TextDecoder().decode(bytes.subarray(start, start + len));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || fortran === undefined || shapeText === undefined) throw new DataError(`.npy header not understood: ${dict.trim()}`, { file });
  if (fortran === 'True') throw new DataError('.npy array is in Fortran order; save numpy.ascontiguousarray(a)', { file });
  if (descr.startsWith('>') && !/^>(i1|u1|b1)$/.test(descr)) throw new DataError(`.npy dtype ${descr} is big-endian; save a little-endian array (a.astype('<${descr.slice(1)}'))`, { file });
  const kind = descr.replace(/^[<|=>]/, '');
  const k = KINDS[kind];
  if (!k) throw new DataError(`.npy dtype ${descr} is not supported (float16/32/64, int8/16/32/64, uint8/16/32, bool are)`, { file });
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { offset: start + len, kind, width: k.width, dtype: k.dtype, shape };
}

/** Decode `n` stored elements of a header's kind (copied, so the result owns its buffer). */
export function decodeNpyData(h: NpyHeader, bytes: Uint8Array, n: number, file: string): StorageArray {
  if (bytes.length < n * h.width) throw new DataError(`.npy data is truncated: ${n} element(s) of ${h.width} byte(s) need ${n * h.width} bytes, ${bytes.length} are there`, { file });
  const buf = new ArrayBuffer(n * h.width);
  new Uint8Array(buf).set(bytes.subarray(0, n * h.width));
  switch (h.kind) {
    case 'f4': return new Float32Array(buf);
    case 'f8': return Float32Array.from(new Float64Array(buf));
    case 'f2': return new Uint16Array(buf);
    case 'i4': return new Int32Array(buf);
    case 'i8': return new BigInt64Array(buf);
    case 'i2': return new Int16Array(buf);
    case 'u2': return new Uint16Array(buf);
    case 'u4': return new Uint32Array(buf);
    case 'i1': return new Int8Array(buf);
    default: return new Uint8Array(buf);
  }
}

/** A whole `.npy` file parsed from its bytes. */
export function readNpy(bytes: Uint8Array, file = '.npy'): DataArray {
  const h = parseNpyHeader(bytes, file);
  const n = sizeOfShape(h.shape);
  return { data: decodeNpyData(h, bytes.subarray(h.offset), n, file), shape: h.shape, dtype: h.dtype };
}

/** A `.npy` file's bytes for an array (little-endian, C order; version 1.0 header). Used to write test data. */
export function encodeNpy(a: DataArray): Uint8Array {
  const descr: Partial<Record<DType, string>> = { float32: '<f4', float16: '<f2', int32: '<i4', int64: '<i8', int8: '|i1', uint8: '|u1', bool: '|b1', int16: '<i2', uint16: '<u2', uint32: '<u4' };
  const d = descr[a.dtype];
  if (!d) throw new DataError(`cannot write ${a.dtype} as .npy`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${d}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = new TextEncoder().encode(header);
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(10 + head.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(head, 10);
  out.set(body, 10 + head.length);
  return out;
}
