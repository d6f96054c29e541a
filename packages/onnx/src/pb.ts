/**
 * Standalone protobuf values (.pb files of the ONNX test suites): TensorProto, SequenceProto,
 * OptionalProto and MapProto (onnx-data.proto).
 */
import type { Tensor } from '@whittle/tensor';
import type { OnnxDataType, RawTensor, ValueType } from '@whittle/graph';
import { WhittleError } from '@whittle/tensor';
import { OnnxFormatError } from './errors.js';
import { dataTypeName } from './datatype.js';
import { decodeTensor, encodeTensor } from './tensor_io.js';
import { toLoader, type ExternalDataSource } from './external.js';
import { ensureProto } from './proto.js';
import { readFields, utf8, WireReader, WIRE_LEN, type WireField } from './wire.js';

/** Element kinds of SequenceProto / OptionalProto (their DataType enum). */
export type ValueKind = 'undefined' | 'tensor' | 'sparse_tensor' | 'sequence' | 'map' | 'optional';
const KINDS: readonly ValueKind[] = ['undefined', 'tensor', 'sparse_tensor', 'sequence', 'map', 'optional'];

export interface SparseTensorValue {
  kind: 'sparse_tensor';
  /** Encoded SparseTensorProto. */
  bytes: Uint8Array;
}
export interface SequenceValue {
  kind: 'sequence';
  name: string;
  elemType: ValueKind;
  values: OnnxValue[];
}
export interface OptionalValue {
  kind: 'optional';
  name: string;
  elemType: ValueKind;
  /** null for an empty optional. */
  value: OnnxValue | null;
}
export interface MapValue {
  kind: 'map';
  name: string;
  keyType: OnnxDataType;
  keys: (bigint | Uint8Array)[];
  values: SequenceValue;
}
/** Any ONNX value read from a .pb file. */
export type OnnxValue = Tensor | RawTensor | SparseTensorValue | SequenceValue | OptionalValue | MapValue;

export interface ReadPbOptions {
  externalData?: ExternalDataSource;
}

function guard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WhittleError) throw e;
    throw new OnnxFormatError(`${what}: protobuf parse failed (${(e as Error).message}); the bytes are truncated or not a ${what.replace(/^read/, '')}`, { cause: e });
  }
}

/** Decode a TensorProto (.pb) into a cpu Tensor or a RawTensor. */
export function readTensorProto(bytes: Uint8Array, opts: ReadPbOptions = {}): Tensor | RawTensor {
  const onnx = ensureProto();
  return guard('readTensorProto', () => {
    const t = onnx.TensorProto.decode(bytes);
    return decodeTensor(t, { where: `tensor '${t.name ?? ''}'`, loadExternal: toLoader(opts.externalData) });
  });
}

/** Encode a Tensor or RawTensor as a standalone TensorProto (.pb). */
export function writeTensorProto(t: Tensor | RawTensor, name = ''): Uint8Array {
  const onnx = ensureProto();
  const b = onnx.TensorProto.encode(encodeTensor(name, t, { where: `tensor '${name}'` })).finish();
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function kindOf(v: bigint | undefined, where: string): ValueKind {
  const k = KINDS[Number(v ?? 0n)];
  if (!k) throw new OnnxFormatError(`${where}: unknown elem_type ${v}`);
  return k;
}

function decodeElement(f: WireField, kind: ValueKind, opts: ReadPbOptions): OnnxValue {
  const b = f.bytes!;
  switch (kind) {
    case 'tensor':
      return readTensorProto(b, opts);
    case 'sparse_tensor':
      return { kind: 'sparse_tensor', bytes: Uint8Array.from(b) };
    case 'sequence':
      return readSequenceProto(b, opts);
    case 'map':
      return readMapProto(b, opts);
    case 'optional':
      return readOptionalProto(b, opts);
    default:
      throw new OnnxFormatError(`value of undefined kind`);
  }
}

/** Field numbers 3..7 of SequenceProto / OptionalProto hold tensor, sparse, sequence, map, optional values. */
const FIELD_KIND: Record<number, ValueKind> = { 3: 'tensor', 4: 'sparse_tensor', 5: 'sequence', 6: 'map', 7: 'optional' };

/** Decode a SequenceProto (.pb). */
export function readSequenceProto(bytes: Uint8Array, opts: ReadPbOptions = {}): SequenceValue {
  return guard('readSequenceProto', () => {
    const out: SequenceValue = { kind: 'sequence', name: '', elemType: 'undefined', values: [] };
    for (const f of readFields(bytes)) {
      if (f.field === 1 && f.bytes) out.name = utf8(f.bytes);
      else if (f.field === 2) out.elemType = kindOf(f.varint, 'SequenceProto');
      else if (FIELD_KIND[f.field] && f.wireType === WIRE_LEN) out.values.push(decodeElement(f, FIELD_KIND[f.field]!, opts));
    }
    return out;
  });
}

/** Decode an OptionalProto (.pb). */
export function readOptionalProto(bytes: Uint8Array, opts: ReadPbOptions = {}): OptionalValue {
  return guard('readOptionalProto', () => {
    const out: OptionalValue = { kind: 'optional', name: '', elemType: 'undefined', value: null };
    for (const f of readFields(bytes)) {
      if (f.field === 1 && f.bytes) out.name = utf8(f.bytes);
      else if (f.field === 2) out.elemType = kindOf(f.varint, 'OptionalProto');
      else if (FIELD_KIND[f.field] && f.wireType === WIRE_LEN) out.value = decodeElement(f, FIELD_KIND[f.field]!, opts);
    }
    return out;
  });
}

/** Decode a MapProto (.pb). */
export function readMapProto(bytes: Uint8Array, opts: ReadPbOptions = {}): MapValue {
  return guard('readMapProto', () => {
    const out: MapValue = { kind: 'map', name: '', keyType: 'undefined', keys: [], values: { kind: 'sequence', name: '', elemType: 'undefined', values: [] } };
    for (const f of readFields(bytes)) {
      if (f.field === 1 && f.bytes) out.name = utf8(f.bytes);
      else if (f.field === 2) out.keyType = dataTypeName(Number(f.varint ?? 0n)) ?? 'undefined';
      else if (f.field === 3 && f.wireType === WIRE_LEN) {
        const r = new WireReader(f.bytes!);
        while (!r.done) out.keys.push(BigInt.asIntN(64, r.varint()));
      } else if (f.field === 3) out.keys.push(BigInt.asIntN(64, f.varint ?? 0n));
      else if (f.field === 4 && f.bytes) out.keys.push(Uint8Array.from(f.bytes));
      else if (f.field === 5 && f.bytes) out.values = readSequenceProto(f.bytes, opts);
    }
    return out;
  });
}

/**
 * Decode a .pb value by the type it should have (a graph input/output type): tensors via
 * TensorProto, sequences via SequenceProto, optionals via OptionalProto, maps via MapProto.
 */
export function readValueProto(bytes: Uint8Array, type: ValueType | null, opts: ReadPbOptions = {}): OnnxValue {
  switch (type?.kind) {
    case 'sequence':
      return readSequenceProto(bytes, opts);
    case 'optional':
      return readOptionalProto(bytes, opts);
    case 'map':
      return readMapProto(bytes, opts);
    default:
      return readTensorProto(bytes, opts);
  }
}

