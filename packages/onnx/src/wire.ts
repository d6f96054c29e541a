/**
 * A minimal protobuf wire-format reader and writer. Used for what the generated onnx-proto code
 * cannot do by itself: keep fields it does not know (newer ONNX versions), and decode the
 * onnx-data messages (SequenceProto, OptionalProto, MapProto) it does not ship.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** One field as found on the wire: field number, wire type, the value and the whole field bytes. */
export interface WireField {
  field: number;
  wireType: number;
  /** varint value (as bigint) for wire type 0 */
  varint?: bigint;
  /** payload for wire type 2 (a view) */
  bytes?: Uint8Array;
  /** the complete encoded field (tag + payload), a view into the source */
  raw: Uint8Array;
}

export class WireReader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated protobuf varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
    throw new RangeError('malformed protobuf varint (more than 10 bytes)');
  }
  uint32(): number {
    // fast path for small varints
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    return Number(this.varint() & 0xffffffffn);
  }
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new RangeError('truncated protobuf field');
    this.pos += n;
  }
  lenDelimited(): Uint8Array {
    const n = Number(this.varint());
    const start = this.pos;
    this.skip(n);
    return this.buf.subarray(start, start + n);
  }
  field(): WireField {
    const start = this.pos;
    const tag = this.varint();
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    const out: WireField = { field, wireType, raw: this.buf };
    switch (wireType) {
      case WIRE_VARINT:
        out.varint = this.varint();
        break;
      case WIRE_I64:
        this.skip(8);
        break;
      case WIRE_LEN:
        out.bytes = this.lenDelimited();
        break;
      case WIRE_I32:
        this.skip(4);
        break;
      default:
        throw new RangeError(`unsupported protobuf wire type ${wireType} (field ${field})`);
    }
    if (field === 0) throw new RangeError('invalid protobuf field number 0');
    out.raw = this.buf.subarray(start, this.pos);
    return out;
  }
}

/** All fields of one message (top level only). */
export function readFields(buf: Uint8Array, start = 0, end = buf.length): WireField[] {
  const r = new WireReader(buf, start, end);
  const out: WireField[] = [];
  while (!r.done) out.push(r.field());
  return out;
}

const utf8d = new TextDecoder('utf-8', { fatal: false });
const utf8e = new TextEncoder();
export function utf8(bytes: Uint8Array): string {
  return utf8d.decode(bytes);
}
export function utf8Bytes(s: string): Uint8Array {
  return utf8e.encode(s);
}

/** Builds encoded fields (for fields the generated code does not know). */
export class WireWriter {
  private parts: number[] = [];
  private chunks: Uint8Array[] = [];
  private flush(): void {
    if (this.parts.length) {
      this.chunks.push(Uint8Array.from(this.parts));
      this.parts = [];
    }
  }
  varint(v: bigint | number): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
    return this;
  }
  tag(field: number, wireType: number): this {
    return this.varint((BigInt(field) << 3n) | BigInt(wireType));
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(b.length);
    this.flush();
    this.chunks.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, utf8Bytes(s));
  }
  /** A fixed-width field (wire type 1: 8 bytes, 5: 4 bytes) with its little-endian payload. */
  fixed(field: number, wireType: typeof WIRE_I64 | typeof WIRE_I32, payload: Uint8Array): this {
    this.tag(field, wireType);
    this.flush();
    this.chunks.push(payload);
    return this;
  }
  finish(): Uint8Array {
    this.flush();
    return concatBytes(this.chunks);
  }
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Encode a map as repeated StringStringEntryProto {key = 1, value = 2} under `field`. */
export function encodeStringMap(field: number, map: Record<string, string>): Uint8Array {
  const w = new WireWriter();
  for (const [k, v] of Object.entries(map)) {
    w.bytes(field, new WireWriter().string(1, k).string(2, v).finish());
  }
  return w.finish();
}

/** Decode one StringStringEntryProto. */
export function decodeStringEntry(bytes: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  for (const f of readFields(bytes)) {
    if (f.field === 1 && f.bytes) key = utf8(f.bytes);
    else if (f.field === 2 && f.bytes) value = utf8(f.bytes);
  }
  return [key, value];
}
