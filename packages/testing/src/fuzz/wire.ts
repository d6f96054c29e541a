/**
 * A lossless protobuf wire-format tree for mutation, on @whittle/onnx's wire reader/writer: every
 * field keeps its number, wire type and payload; length-delimited fields that are known ONNX
 * messages are parsed into children, so a mutation can reach a TensorProto's dims deep inside a
 * subgraph. encode(decode(b)) === b.
 */
import { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, WireWriter, readFields } from '@whittle/onnx';

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

/** Parse a message; throws on malformed wire data (callers fall back to byte mutations). */
export function decodeWire(buf: Uint8Array, type = 'Model'): WireField[] {
  return readFields(buf).map((f): WireField => {
    const wire = f.wireType as WireField['wire'];
    if (wire === WIRE_VARINT) return { num: f.field, wire, value: f.varint! };
    if (wire !== WIRE_LEN) return { num: f.field, wire, value: f.raw.subarray(f.raw.length - (wire === WIRE_I64 ? 8 : 4)) };
    const sub = SCHEMA[type]?.[f.field];
    if (sub) {
      try {
        return { num: f.field, wire, value: decodeWire(f.bytes!, sub), type: sub };
      } catch {
        // not a well-formed sub-message: keep the bytes
      }
    }
    return { num: f.field, wire, value: f.bytes! };
  });
}

/** Encode a field list back to bytes. */
export function encodeWire(fields: readonly WireField[]): Uint8Array {
  const w = new WireWriter();
  for (const f of fields) {
    if (f.wire === WIRE_VARINT) w.tag(f.num, WIRE_VARINT).varint(f.value as bigint);
    else if (f.wire === WIRE_LEN) w.bytes(f.num, Array.isArray(f.value) ? encodeWire(f.value) : (f.value as Uint8Array));
    else w.fixed(f.num, f.wire === 1 ? WIRE_I64 : WIRE_I32, f.value as Uint8Array);
  }
  return w.finish();
}

/** Every (parent list, index, field) in the tree, depth first, with the parent's message type. */
export function walk(fields: WireField[], type = 'Model', out: { list: WireField[]; index: number; field: WireField; parent: string }[] = []) {
  fields.forEach((field, index) => {
    out.push({ list: fields, index, field, parent: type });
    if (Array.isArray(field.value)) walk(field.value, field.type, out);
  });
  return out;
}
