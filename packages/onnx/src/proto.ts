/**
 * The onnx-proto (protobufjs static code for onnx.proto) namespace, extended so that fields the
 * generated code does not know (it was generated from ONNX 1.10; newer fields such as
 * NodeProto.overload / metadata_props or GraphProto.metadata_props) survive a read → write:
 * every message remembers its unknown fields in `$unknown` and writes them back. A repeated
 * number field holding one value is written unpacked (tag + value), one byte smaller than the
 * packed form the generated code always writes (tag + length + value): exporters write them
 * unpacked, and a read → write must not grow the file.
 */
import onnxProto from 'onnx-proto';
import { readFields } from './wire.js';

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

interface ProtoType {
  decode(reader: unknown, length?: number): object;
  encode(message: object, writer?: unknown): unknown;
}
interface RawWriter {
  _push(fn: (val: Uint8Array, buf: Uint8Array, pos: number) => void, len: number, val: Uint8Array): unknown;
}
interface RawReader {
  buf: Uint8Array;
  pos: number;
}

const UNKNOWN = '$unknown';

/** Unknown fields (complete encoded fields, tag included) a decoded message carried. */
export function unknownFields(msg: object): Uint8Array[] | undefined {
  return (msg as Record<string, Uint8Array[] | undefined>)[UNKNOWN];
}

/** Attach encoded fields to a message so its encode appends them. */
export function setUnknownFields<T extends object>(msg: T, fields: readonly Uint8Array[] | undefined): T {
  if (fields && fields.length) (msg as Record<string, unknown>)[UNKNOWN] = [...fields];
  return msg;
}

function writeRaw(val: Uint8Array, buf: Uint8Array, pos: number): void {
  buf.set(val, pos);
}

let patched = false;

type Scalar = 'int64' | 'int32' | 'uint64' | 'float' | 'double';
interface ScalarWriter {
  uint32(v: number): ScalarWriter;
  int64(v: unknown): ScalarWriter;
  int32(v: unknown): ScalarWriter;
  uint64(v: unknown): ScalarWriter;
  float(v: unknown): ScalarWriter;
  double(v: unknown): ScalarWriter;
}

/** Repeated number fields (message property → field number, scalar type) written unpacked when they hold one value. */
const SINGLETONS: Record<string, Record<string, [number, Scalar]>> = {
  TensorProto: { dims: [1, 'int64'], floatData: [4, 'float'], int32Data: [5, 'int32'], int64Data: [7, 'int64'], doubleData: [10, 'double'], uint64Data: [11, 'uint64'] },
  AttributeProto: { floats: [7, 'float'], ints: [8, 'int64'] },
};
const WIRE_OF: Record<Scalar, number> = { int64: 0, int32: 0, uint64: 0, float: 5, double: 1 };

function patchType(T: ProtoType, typeName: string): void {
  const singletons = Object.entries(SINGLETONS[typeName] ?? {});
  const src = String(T.decode);
  const known = new Set<number>();
  for (const m of src.matchAll(/case (\d+):/g)) known.add(Number(m[1]));
  const decode = T.decode;
  const encode = T.encode;
  T.decode = function (reader: unknown, length?: number): object {
    let buf: Uint8Array;
    let start: number;
    if (reader instanceof Uint8Array) {
      buf = reader;
      start = 0;
    } else {
      buf = (reader as RawReader).buf;
      start = (reader as RawReader).pos;
    }
    const msg = decode.call(this, reader, length);
    const end = reader instanceof Uint8Array ? reader.length : (reader as RawReader).pos;
    let extra: Uint8Array[] | undefined;
    for (const f of readFields(buf, start, end)) {
      if (!known.has(f.field)) (extra ??= []).push(f.raw);
    }
    if (extra) (msg as Record<string, unknown>)[UNKNOWN] = extra;
    return msg;
  };
  T.encode = function (message: object, writer?: unknown): unknown {
    const m = message as Record<string, unknown>;
    const single = singletons.filter(([k]) => (m[k] as unknown[] | undefined)?.length === 1);
    let w: unknown;
    if (single.length) {
      const rest: Record<string, unknown> = { ...m };
      for (const [k] of single) rest[k] = [];
      w = encode.call(this, rest, writer);
      for (const [k, [field, type]] of single) (w as ScalarWriter).uint32((field << 3) | WIRE_OF[type])[type]((m[k] as unknown[])[0]);
    } else w = encode.call(this, message, writer);
    const extra = unknownFields(message);
    if (extra) for (const b of extra) (w as RawWriter)._push(writeRaw, b.length, b);
    return w;
  };
}

function patchAll(ns: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(ns)) {
    if (typeof v === 'function' && 'decode' in v && 'encode' in v) {
      patchType(v as unknown as ProtoType, name);
      patchAll(v as unknown as Record<string, unknown>); // nested types (TypeProto.Tensor, …)
    }
  }
}

/** Install the unknown-field handling once (called by every reader/writer entry point). */
export function ensureProto(): typeof onnx {
  if (!patched) {
    patched = true;
    patchAll(onnx as unknown as Record<string, unknown>);
  }
  return onnx;
}

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

/** An int64 field value (number or protobufjs Long) as a JS number (exact below 2^53). */
export function toNum(v: number | LongLike | null | undefined): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  const hi = v.unsigned ? v.high >>> 0 : v.high;
  return hi * 4294967296 + (v.low >>> 0);
}

/** An int64 field value as a bigint. */
export function toBig(v: number | LongLike | null | undefined, unsigned = false): bigint {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  const b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
}
