/**
 * Hand-encoded one-node ONNX models (protobuf wire format) for onnxruntime-node baselines.
 * Only the handful of ModelProto fields a single-node graph needs are written.
 */

type Field = Uint8Array;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const concat = (parts: Field[]): Field => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const int = (field: number, v: number): Field => Uint8Array.from([...varint(field << 3), ...varint(v)]);
const bytes = (field: number, v: Field): Field => concat([Uint8Array.from([...varint((field << 3) | 2), ...varint(v.length)]), v]);
const str = (field: number, s: string): Field => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, ...parts: Field[]): Field => bytes(field, concat(parts));

/** ValueInfoProto of a float32 tensor with a static shape. */
function valueInfo(field: number, name: string, shape: readonly number[]): Field {
  const dims = shape.map((d) => msg(1, int(1, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, 1), msg(2, ...dims))));
}

/** Attribute encoders for the node. */
export type Attr = { name: string; ints: number[] } | { name: string; int: number };

function attribute(a: Attr): Field {
  if ('ints' in a) return msg(5, str(1, a.name), int(20, 7), ...a.ints.map((v) => int(8, v)));
  return msg(5, str(1, a.name), int(20, 2), int(3, a.int));
}

/**
 * A model with one node `opType(inputs) -> Y` over float32 tensors (opset 17).
 */
export function singleNodeModel(opType: string, inputs: { name: string; shape: number[] }[], outShape: number[], attrs: Attr[] = []): Uint8Array {
  const node = msg(1, ...inputs.map((i) => str(1, i.name)), str(2, 'Y'), str(4, opType), ...attrs.map(attribute));
  const graph = msg(7, node, str(2, 'g'), ...inputs.map((i) => valueInfo(11, i.name, i.shape)), valueInfo(12, 'Y', outShape));
  return concat([int(1, 8), str(2, 'whittle-bench'), graph, msg(8, str(1, ''), int(2, 17))]);
}
