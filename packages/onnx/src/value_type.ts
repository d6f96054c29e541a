/** TypeProto / ValueInfoProto ⇄ ValueType / ValueInfo. */
import type { Dim, ValueInfo, ValueType } from '@whittle/graph';
import { OnnxFormatError } from './errors.js';
import { dataTypeName, dataTypeNumber } from './datatype.js';
import { onnx, setUnknownFields, toNum, unknownFields, type OnnxTypes } from './proto.js';
import { decodeStringEntry, encodeStringMap, readFields } from './wire.js';

type ITypeProto = OnnxTypes.ITypeProto;

function shapeOf(shape: OnnxTypes.ITensorShapeProto | null | undefined): Dim[] | undefined {
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d): Dim => {
    if (Object.prototype.hasOwnProperty.call(d, 'dimValue') && d.dimValue != null) return toNum(d.dimValue);
    if (d.dimParam) return d.dimParam;
    return null;
  });
}

function encodedType(tp: ITypeProto): Uint8Array {
  return onnx.TypeProto.encode(tp).finish();
}

/** Decode a TypeProto. Tensor types become elemType + shape; others keep their encoded bytes. */
export function decodeValueType(tp: ITypeProto | null | undefined, where: string): ValueType | null {
  if (!tp) return null;
  const elem = (n: number | null | undefined) => {
    const t = dataTypeName(n ?? 0);
    if (t === undefined) throw new OnnxFormatError(`${where}: unknown element type ${n}`);
    return t;
  };
  if (tp.tensorType) {
    const shape = shapeOf(tp.tensorType.shape);
    return { kind: 'tensor', elemType: elem(tp.tensorType.elemType), ...(shape ? { shape } : {}) };
  }
  if (tp.sparseTensorType) {
    const shape = shapeOf(tp.sparseTensorType.shape);
    return { kind: 'sparse', elemType: elem(tp.sparseTensorType.elemType), ...(shape ? { shape } : {}), raw: encodedType(tp) };
  }
  if (tp.sequenceType) return { kind: 'sequence', raw: encodedType(tp) };
  if (tp.mapType) return { kind: 'map', raw: encodedType(tp) };
  if (tp.optionalType) return { kind: 'optional', raw: encodedType(tp) };
  return { kind: 'unknown', raw: encodedType(tp) };
}

function encodeShape(shape: readonly Dim[]): OnnxTypes.ITensorShapeProto {
  return {
    dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
  };
}

/** Encode a ValueType as a TypeProto object. */
export function encodeValueType(t: ValueType): ITypeProto {
  if (t.kind === 'tensor') {
    const tensorType: OnnxTypes.TypeProto.ITensor = { elemType: dataTypeNumber(t.elemType ?? 'undefined') };
    if (t.shape) tensorType.shape = encodeShape(t.shape);
    return { tensorType };
  }
  if (t.raw) return onnx.TypeProto.decode(t.raw);
  if (t.kind === 'sparse') {
    const s: OnnxTypes.TypeProto.ISparseTensor = { elemType: dataTypeNumber(t.elemType ?? 'undefined') };
    if (t.shape) s.shape = encodeShape(t.shape);
    return { sparseTensorType: s };
  }
  return {};
}

/** Metadata props carried in an unknown field `field`, plus the other unknown fields. */
export function splitUnknown(
  msg: object,
  fields: Record<number, 'metadata' | 'string'>,
): { props?: Record<string, string>; strings: Record<number, string>; rest?: Uint8Array[] } {
  const out: { props?: Record<string, string>; strings: Record<number, string>; rest?: Uint8Array[] } = { strings: {} };
  for (const raw of unknownFields(msg) ?? []) {
    const [f] = readFields(raw);
    const kind = f ? fields[f.field] : undefined;
    if (f && f.bytes && kind === 'metadata') {
      const [k, v] = decodeStringEntry(f.bytes);
      (out.props ??= {})[k] = v;
    } else if (f && f.bytes && kind === 'string') {
      out.strings[f.field] = new TextDecoder().decode(f.bytes);
    } else {
      (out.rest ??= []).push(raw);
    }
  }
  return out;
}

export function decodeValueInfo(v: OnnxTypes.IValueInfoProto, where: string): ValueInfo {
  const name = v.name ?? '';
  const info: ValueInfo = { name, type: decodeValueType(v.type, `${where} '${name}'`) };
  if (v.docString) info.docString = v.docString;
  const u = splitUnknown(v, { 4: 'metadata' });
  if (u.props) info.metadataProps = u.props;
  return info;
}

export function encodeValueInfo(v: ValueInfo): OnnxTypes.IValueInfoProto {
  const out: OnnxTypes.IValueInfoProto = { name: v.name };
  if (v.type) out.type = encodeValueType(v.type);
  if (v.docString) out.docString = v.docString;
  if (v.metadataProps && Object.keys(v.metadataProps).length) setUnknownFields(out, [encodeStringMap(4, v.metadataProps)]);
  return out;
}
