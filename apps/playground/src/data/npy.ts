/** A minimal reader of NumPy .npy files (little-endian numeric arrays, C order). */

export interface NpyArray {
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;
  shape: number[];
  /** ONNX element type name of `data`. */
  type: 'float32' | 'int32' | 'int64' | 'uint8' | 'int8' | 'float16' | 'bool';
}

function header(bytes: Uint8Array): { dict: string; offset: number } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file (magic \\x93NUMPY missing)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  return { dict: new TextDecoder().decode(bytes.subarray(start, start + len)), offset: start + len };
}

function copyOf(bytes: Uint8Array, offset: number, n: number, width: number): ArrayBuffer {
  const buf = new ArrayBuffer(n * width);
  new Uint8Array(buf).set(bytes.subarray(offset, offset + n * width));
  return buf;
}

/** Parse a .npy file; float64 becomes float32 (what models take), bool becomes uint8. */
export function readNpy(bytes: Uint8Array): NpyArray {
  const { dict, offset } = header(bytes);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || fortran === undefined || shapeText === undefined) throw new Error(`.npy header not understood: ${dict.trim()}`);
  if (fortran === 'True') throw new Error('.npy arrays in Fortran order are not supported; save with np.ascontiguousarray');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  if (descr.startsWith('>')) throw new Error(`.npy dtype ${descr} is big-endian; save a little-endian array`);
  const kind = descr.replace(/^[<|=]/, '');
  const widths: Record<string, number> = { f4: 4, f8: 8, f2: 2, i4: 4, i8: 8, u1: 1, i1: 1, b1: 1 };
  const width = widths[kind];
  if (!width) throw new Error(`.npy dtype ${descr} is not supported (float16/32/64, int8/32/64, uint8, bool are)`);
  if (bytes.length < offset + n * width) throw new Error(`.npy file is truncated: ${n} elements of ${width} bytes need ${offset + n * width} bytes, file has ${bytes.length}`);
  const buf = copyOf(bytes, offset, n, width);
  switch (kind) {
    case 'f4':
      return { data: new Float32Array(buf), shape, type: 'float32' };
    case 'f8':
      return { data: Float32Array.from(new Float64Array(buf)), shape, type: 'float32' };
    case 'f2':
      return { data: new Uint16Array(buf), shape, type: 'float16' };
    case 'i4':
      return { data: new Int32Array(buf), shape, type: 'int32' };
    case 'i8':
      return { data: new BigInt64Array(buf), shape, type: 'int64' };
    case 'i1':
      return { data: new Int8Array(buf), shape, type: 'int8' };
    case 'b1':
      return { data: new Uint8Array(buf), shape, type: 'bool' };
    default:
      return { data: new Uint8Array(buf), shape, type: 'uint8' };
  }
}
