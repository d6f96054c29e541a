/** TensorProto ⇄ Tensor | RawTensor. */
import { CpuBackend, engine, type DType, type StorageArray, type Tensor } from '@whittle/tensor';
import type { OnnxDataType, RawTensor } from '@whittle/graph';
import { OnnxFormatError, ExternalDataError } from './errors.js';
import { computeDType, dataTypeBits, dataTypeName, dataTypeNumber, rawByteLength } from './datatype.js';
import { checkLocation, type ExternalDataLoader, type ExternalDataSink } from './external.js';
import { toBig, toNum, type OnnxTypes } from './proto.js';

type ITensorProto = OnnxTypes.ITensorProto;

/** True for a {@link RawTensor} (as opposed to a computing Tensor). */
export function isRawTensor(t: Tensor | RawTensor): t is RawTensor {
  return 'dataType' in t && !('storage' in t);
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** Check dims (non-negative safe integers) and return the element count. */
export function elementCount(dims: readonly number[], where: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new OnnxFormatError(`${where}: dimension ${d} in dims [${dims.join(',')}] is not a non-negative integer; the file is corrupt`);
    }
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new OnnxFormatError(`${where}: dims [${dims.join(',')}] describe more elements than can exist; the file is corrupt`);
    }
  }
  return n;
}

export interface TensorReadContext {
  /** Where the tensor lives, for messages ("initializer 'w'", "node 'c' attribute 'value'"). */
  where: string;
  loadExternal?: ExternalDataLoader;
  /** Leave external data unloaded: the tensor becomes a RawTensor with an `external` reference. */
  deferExternal?: boolean;
  /**
   * Tensors may view the input bytes (aligned payloads) instead of copying them; with
   * 'align-in-place', an unaligned raw_data payload is moved down over its own field header to an
   * aligned offset (the input bytes change: only for a buffer the reader owns).
   */
  viewBytes?: boolean | 'align-in-place';
}

interface ExternalRef {
  location: string;
  offset: number;
  length?: number;
}

function externalRef(t: ITensorProto, where: string): ExternalRef {
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  for (const e of t.externalData ?? []) {
    const v = e.value ?? '';
    const num = (): number => {
      if (!/^\d+$/.test(v)) throw new ExternalDataError(`${where}: external data ${e.key} '${v}' is not a non-negative integer`);
      return Number(v);
    };
    if (e.key === 'location') location = v;
    else if (e.key === 'offset') offset = num();
    else if (e.key === 'length') length = num();
  }
  if (location === undefined) throw new ExternalDataError(`${where}: data_location is EXTERNAL but external_data has no 'location'`);
  return length === undefined ? { location, offset } : { location, offset, length };
}

/** Typed-field payload of a TensorProto as raw little-endian bytes (or strings). */
function typedPayload(t: ITensorProto, type: OnnxDataType, count: number, where: string): Uint8Array | null {
  const bits = dataTypeBits(type);
  const mismatch = (field: string, got: number, want: number): never => {
    throw new OnnxFormatError(`${where}: dims [${(t.dims ?? []).map(toNum).join(',')}] hold ${count} ${type} elements (${want} ${field} values) but ${field} has ${got}`);
  };
  const need = (field: string, arr: ArrayLike<unknown> | null | undefined, want: number): boolean => {
    const got = arr?.length ?? 0;
    if (got === 0) return false;
    if (got !== want) mismatch(field, got, want);
    return true;
  };
  switch (type) {
    case 'float32':
    case 'complex64': {
      const want = type === 'complex64' ? count * 2 : count;
      if (!need('float_data', t.floatData, want)) return want === 0 ? new Uint8Array(0) : null;
      return bytesOf(Float32Array.from(t.floatData!));
    }
    case 'float64':
    case 'complex128': {
      const want = type === 'complex128' ? count * 2 : count;
      if (!need('double_data', t.doubleData, want)) return want === 0 ? new Uint8Array(0) : null;
      return bytesOf(Float64Array.from(t.doubleData!));
    }
    case 'int64': {
      if (!need('int64_data', t.int64Data, count)) return count === 0 ? new Uint8Array(0) : null;
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = toBig(t.int64Data![i]);
      return bytesOf(out);
    }
    case 'uint32':
    case 'uint64': {
      if (!need('uint64_data', t.uint64Data, count)) return count === 0 ? new Uint8Array(0) : null;
      if (type === 'uint32') return bytesOf(Uint32Array.from(t.uint64Data!, (v) => toNum(v)));
      const out = new BigUint64Array(count);
      for (let i = 0; i < count; i++) out[i] = toBig(t.uint64Data![i], true);
      return bytesOf(out);
    }
    case 'string':
    case 'undefined':
      return null;
    default: {
      // int32_data carries every other type: one element per value, or one packed byte for
      // 4-bit / 2-bit types.
      const want = bits < 8 ? Math.ceil((count * bits) / 8) : count;
      if (!need('int32_data', t.int32Data, want)) return want === 0 ? new Uint8Array(0) : null;
      const src = t.int32Data!;
      switch (bits) {
        case 32:
          return bytesOf(Int32Array.from(src));
        case 16:
          return bytesOf(Uint16Array.from(src, (v) => v & 0xffff));
        default:
          return type === 'bool' ? Uint8Array.from(src, (v) => (v ? 1 : 0)) : Uint8Array.from(src, (v) => v & 0xff);
      }
    }
  }
}

const ELEMENT_BYTES: Partial<Record<DType, number>> = { float32: 4, float16: 2, int32: 4, int64: 8, int16: 2, uint16: 2, uint32: 4, uint64: 8, float64: 8, bfloat16: 2 };

/**
 * Raw bytes → typed storage of a compute dtype: a view of `bytes` when `view` is allowed and the
 * payload is aligned for its element type, else one copy (no per-element work either way).
 */
/** Bytes of the shortest varint holding `n`. */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/**
 * A raw_data payload at an offset its element size does not divide would be copied into fresh
 * memory — on a large model a second pass over hundreds of megabytes of never-touched pages. It
 * sits right after its own field header (one tag byte, then the length as a varint), which has
 * been parsed already: when that header is at least as long as the misalignment, the payload
 * moves down over it to an aligned offset within the same buffer and is viewed there.
 */
function alignRawInPlace(raw: Uint8Array, size: number): Uint8Array {
  const shift = raw.byteOffset % size;
  if (shift === 0 || shift > 1 + varintLength(raw.length)) return raw;
  const start = raw.byteOffset - shift;
  new Uint8Array(raw.buffer, start, raw.length + shift).copyWithin(0, shift);
  return new Uint8Array(raw.buffer, start, raw.length);
}

function storageFrom(dtype: DType, bytes: Uint8Array, view: boolean): StorageArray {
  const size = ELEMENT_BYTES[dtype] ?? 1;
  const b = view && bytes.byteOffset % size === 0 ? bytes : copyBytes(bytes);
  const n = b.byteLength / size;
  switch (dtype) {
    case 'float32':
      return new Float32Array(b.buffer, b.byteOffset, n);
    case 'float16':
    case 'uint16':
    case 'bfloat16':
      return new Uint16Array(b.buffer, b.byteOffset, n);
    case 'int32':
      return new Int32Array(b.buffer, b.byteOffset, n);
    case 'int64':
      return new BigInt64Array(b.buffer, b.byteOffset, n);
    case 'int8':
      return new Int8Array(b.buffer, b.byteOffset, n);
    case 'int16':
      return new Int16Array(b.buffer, b.byteOffset, n);
    case 'uint32':
      return new Uint32Array(b.buffer, b.byteOffset, n);
    case 'uint64':
      return new BigUint64Array(b.buffer, b.byteOffset, n);
    case 'float64':
      return new Float64Array(b.buffer, b.byteOffset, n);
    default:
      return b;
  }
}

/** A cpu tensor owning `values` (no upload copy: the storage was made for it). */
function cpuTensorOwning(dtype: DType, dims: readonly number[], values: StorageArray): Tensor {
  const b = engine().backend('cpu');
  if (b instanceof CpuBackend) return engine().wrap(b.output(dtype, [...dims], values), b);
  return engine().fromStorage(dtype, dims, values, 'cpu');
}

/** Decode a TensorProto into a cpu Tensor (computable dtypes) or a RawTensor. */
export function decodeTensor(t: ITensorProto, ctx: TensorReadContext): Tensor | RawTensor {
  if (!LE) throw new OnnxFormatError('big-endian hosts are not supported');
  const where = ctx.where;
  const typeNum = t.dataType ?? 0;
  const type = dataTypeName(typeNum);
  if (type === undefined || type === 'undefined') {
    throw new OnnxFormatError(`${where}: unknown tensor data_type ${typeNum}; the file is corrupt or from a newer ONNX version`);
  }
  const dims = (t.dims ?? []).map((d) => toNum(d));
  const count = elementCount(dims, where);
  const docString = t.docString ? t.docString : undefined;

  if (type === 'string') {
    if (t.dataLocation === 1 || (has(t, 'rawData') && (t.rawData?.length ?? 0) > 0)) {
      throw new OnnxFormatError(`${where}: string tensors must use string_data, not raw or external data`);
    }
    const strings = (t.stringData ?? []).map(copyBytes);
    if (strings.length !== count) {
      throw new OnnxFormatError(`${where}: dims [${dims.join(',')}] hold ${count} strings but string_data has ${strings.length}`);
    }
    return { dataType: type, dims, strings, ...(docString !== undefined ? { docString } : {}) };
  }

  const expected = rawByteLength(type, count);
  let raw: Uint8Array | null;
  if (t.dataLocation === 1) {
    const ref = externalRef(t, where);
    checkLocation(ref.location, tensorNameOf(t, where));
    if (ref.length !== undefined && ref.length !== expected) {
      throw new ExternalDataError(
        `${where}: external data length ${ref.length} disagrees with dims [${dims.join(',')}] of ${type} (${expected} bytes)`,
      );
    }
    if (ctx.deferExternal) {
      return { dataType: type, dims, external: { location: ref.location, offset: ref.offset, length: expected }, ...(docString !== undefined ? { docString } : {}) };
    }
    if (!ctx.loadExternal) {
      throw new ExternalDataError(`${where}: tensor data is in external file '${ref.location}' but no external data source was given`);
    }
    raw = ctx.loadExternal(ref.location, ref.offset, expected, tensorNameOf(t, where));
    if (raw.length !== expected) {
      throw new ExternalDataError(`${where}: external data loader returned ${raw.length} bytes, expected ${expected}`);
    }
  } else if (has(t, 'rawData') && t.rawData != null && (t.rawData.length > 0 || expected === 0)) {
    raw = ctx.viewBytes === 'align-in-place' ? alignRawInPlace(t.rawData, ELEMENT_BYTES[computeDType(type) ?? 'uint8'] ?? 1) : t.rawData;
    if (raw.length !== expected) {
      throw new OnnxFormatError(
        `${where}: raw_data has ${raw.length} bytes but dims [${dims.join(',')}] of ${type} need ${expected}; the file is corrupt`,
      );
    }
  } else {
    raw = typedPayload(t, type, count, where);
    if (raw === null) {
      throw new OnnxFormatError(`${where}: tensor of ${count} ${type} elements has no data (no raw_data, typed data or external data)`);
    }
  }

  const dtype = computeDType(type);
  if (dtype !== undefined) {
    // loader results are fresh buffers (node) or the caller's; view them only when allowed
    return cpuTensorOwning(dtype, dims, storageFrom(dtype, raw, ctx.viewBytes !== undefined && ctx.viewBytes !== false));
  }
  return { dataType: type, dims, rawData: copyBytes(raw), ...(docString !== undefined ? { docString } : {}) };
}

function tensorNameOf(t: ITensorProto, where: string): string {
  return t.name ? t.name : where;
}

/** The element type of a Tensor or RawTensor, as an ONNX name. */
export function onnxTypeOf(t: Tensor | RawTensor): OnnxDataType {
  return isRawTensor(t) ? t.dataType : t.dtype;
}

/** Raw little-endian bytes of a Tensor (host copy) or RawTensor. */
export function tensorBytes(t: Tensor | RawTensor, where: string): Uint8Array {
  if (isRawTensor(t)) return t.rawData ?? new Uint8Array(0);
  let data: StorageArray;
  try {
    data = t.dataSync();
  } catch (e) {
    throw new OnnxFormatError(`${where}: cannot read tensor data synchronously (${(e as Error).message}); move it to the cpu backend before writing`, { cause: e });
  }
  return bytesOf(data);
}

export interface TensorWriteContext {
  where: string;
  sink?: ExternalDataSink;
  /** Write unloaded tensors (RawTensor.external) as their external reference; else refuse them. */
  keepExternalRefs?: boolean;
}

/** Encode a Tensor or RawTensor as a TensorProto (raw_data, or external data above the sink's threshold). */
export function encodeTensor(name: string | undefined, t: Tensor | RawTensor, ctx: TensorWriteContext): ITensorProto {
  const type = onnxTypeOf(t);
  const dims = isRawTensor(t) ? [...t.dims] : [...t.shape];
  const count = elementCount(dims, ctx.where);
  const out: ITensorProto = { dims, dataType: dataTypeNumber(type) };
  if (name !== undefined && name !== '') out.name = name;
  if (isRawTensor(t) && t.docString) out.docString = t.docString;
  if (type === 'string') {
    const strings = isRawTensor(t) ? (t.strings ?? []) : [];
    if (strings.length !== count) {
      throw new OnnxFormatError(`${ctx.where}: string tensor has ${strings.length} strings for dims [${dims.join(',')}]`);
    }
    out.stringData = [...strings];
    return out;
  }
  if (isRawTensor(t) && t.external) {
    if (!ctx.keepExternalRefs) {
      throw new OnnxFormatError(
        `${ctx.where}: its data was never loaded (the model was read with deferExternal); ` +
          'write it with rewriteModelFile from @whittle/onnx/node, or read the model without deferExternal',
      );
    }
    const { location, offset, length } = t.external;
    out.dataLocation = 1;
    out.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ];
    return out;
  }
  const bytes = tensorBytes(t, ctx.where);
  const expected = rawByteLength(type, count);
  if (bytes.length !== expected) {
    throw new OnnxFormatError(`${ctx.where}: ${bytes.length} data bytes for dims [${dims.join(',')}] of ${type} (need ${expected})`);
  }
  if (ctx.sink && bytes.length > 0 && bytes.length >= ctx.sink.sizeThreshold) {
    const offset = ctx.sink.append(bytes);
    out.dataLocation = 1;
    out.externalData = [
      { key: 'location', value: ctx.sink.location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(bytes.length) },
    ];
    return out;
  }
  out.rawData = bytes;
  return out;
}
