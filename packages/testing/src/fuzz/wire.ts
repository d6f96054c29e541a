/**
 * A lossless protobuf wire-format tree for mutation: every field keeps its number, wire type and
 * payload; length-delimited fields that are known ONNX messages are parsed into children, so a
 * mutation can reach a TensorProto's dims deep inside a subgraph. encode(decode(b)) === b.
 */

export type WireValue = bigint | Uint8Array | WireField[];

export interface WireField {
  num: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  wire: 0 | 1 | 2 | 5;
  value: WireValue;
  /** Message type of a parsed length-delimited child (see SCHEMA). */
  type?: string;
}

/** Which fields of which ONNX message hold which sub-message (only the ones worth descending). */
export const SCHEMA: Record<string, Record<number, string>> = {
  Model: { 7: 'Graph', 8: 'OperatorSetId', 14: 'StringEntry', 25: 'Function' },
  Graph: { 1: 'Node', 5: 'Tensor', 11: 'ValueInfo', 12: 'ValueInfo', 13: 'ValueInfo', 15: 'SparseTensor' },
  Node: { 5: 'Attribute' },
  Attribute: { 5: 'Tensor', 6: 'Graph', 10: 'Tensor', 11: 'Graph' },
  Tensor: { 13: 'StringEntry' },
  SparseTensor: { 1: 'Tensor', 2: 'Tensor' },
  ValueInfo: { 2: 'Type' },
  Type: { 1: 'TensorType', 4: 'Type', 5: 'Type' },
  TensorType: { 2: 'Shape' },
  Shape: { 1: 'Dim' },
  Function: { 7: 'Node' },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw new Error('varint too long');
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Parse a message; throws on malformed wire data (callers fall back to byte mutations). */
export function decodeWire(buf: Uint8Array, type = 'Model'): WireField[] {
  const r = new Reader(buf);
  const out: WireField[] = [];
  while (r.pos < r.end) {
    const key = r.varint();
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (num === 0) throw new Error('field number 0');
    if (wire === 0) out.push({ num, wire, value: r.varint() });
    else if (wire === 1) out.push({ num, wire, value: r.take(8) });
    else if (wire === 5) out.push({ num, wire, value: r.take(4) });
    else if (wire === 2) {
      const bytes = r.take(Number(r.varint()));
      const sub = SCHEMA[type]?.[num];
      if (sub) {
        try {
          out.push({ num, wire, value: decodeWire(bytes, sub), type: sub });
          continue;
        } catch {
          // not a well-formed sub-message: keep the bytes
        }
      }
      out.push({ num, wire, value: bytes });
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

function varintBytes(v: bigint, out: number[]): void {
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
}

/** Encode a field list back to bytes. */
export function encodeWire(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array): void => {
    parts.push(b);
    size += b.length;
  };
  for (const f of fields) {
    const head: number[] = [];
    varintBytes(BigInt(f.num * 8 + f.wire), head);
    if (f.wire === 0) {
      varintBytes(f.value as bigint, head);
      push(Uint8Array.from(head));
    } else if (f.wire === 2) {
      const body = Array.isArray(f.value) ? encodeWire(f.value) : (f.value as Uint8Array);
      varintBytes(BigInt(body.length), head);
      push(Uint8Array.from(head));
      push(body);
    } else {
      push(Uint8Array.from(head));
      push(f.value as Uint8Array);
    }
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Every (parent list, index, field) in the tree, depth first, with the parent's message type. */
export function walk(fields: WireField[], type = 'Model', out: { list: WireField[]; index: number; field: WireField; parent: string }[] = []) {
  fields.forEach((field, index) => {
    out.push({ list: fields, index, field, parent: type });
    if (Array.isArray(field.value)) walk(field.value, field.type, out);
  });
  return out;
}
