// Builders for test models, written with onnx-proto objects (independent of the reader under test).
import { ensureProto, setUnknownFields, type OnnxTypes } from '../src/proto.js';
import { WireWriter, encodeStringMap } from '../src/wire.js';

export const onnx = ensureProto();

export const T = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16, UINT4: 21, INT4: 22, UINT2: 25, INT2: 26 } as const;

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

export function rawTensor(name: string, dataType: number, dims: number[], raw: Uint8Array): OnnxTypes.ITensorProto {
  return { name, dataType, dims, rawData: raw };
}

export function vi(name: string, elemType: number, dims: (number | string | null)[] | null, extra: Partial<OnnxTypes.IValueInfoProto> = {}): OnnxTypes.IValueInfoProto {
  const tensorType: OnnxTypes.TypeProto.ITensor = { elemType };
  if (dims) tensorType.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) };
  return { name, type: { tensorType }, ...extra };
}

export function node(opType: string, input: string[], output: string[], attrs: OnnxTypes.IAttributeProto[] = [], extra: Partial<OnnxTypes.INodeProto> = {}): OnnxTypes.INodeProto {
  return { opType, input, output, name: `${opType}_${output[0]}`, attribute: attrs, ...extra };
}

export const attr = {
  f: (name: string, f: number): OnnxTypes.IAttributeProto => ({ name, type: 1, f }),
  i: (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: 2, i }),
  s: (name: string, s: string): OnnxTypes.IAttributeProto => ({ name, type: 3, s: new TextEncoder().encode(s) }),
  t: (name: string, t: OnnxTypes.ITensorProto): OnnxTypes.IAttributeProto => ({ name, type: 4, t }),
  g: (name: string, g: OnnxTypes.IGraphProto): OnnxTypes.IAttributeProto => ({ name, type: 5, g }),
  floats: (name: string, floats: number[]): OnnxTypes.IAttributeProto => ({ name, type: 6, floats }),
  ints: (name: string, ints: number[]): OnnxTypes.IAttributeProto => ({ name, type: 7, ints }),
};

export function encode(m: OnnxTypes.IModelProto): Uint8Array {
  const b = onnx.ModelProto.encode(m).finish();
  return new Uint8Array(b.buffer, b.byteOffset, b.length).slice();
}

/** Raw field helpers for fields onnx-proto (ONNX 1.10) does not know. */
export const newer = {
  nodeOverload: (s: string) => new WireWriter().string(8, s).finish(),
  nodeMetadata: (m: Record<string, string>) => encodeStringMap(9, m),
  graphMetadata: (m: Record<string, string>) => encodeStringMap(16, m),
  valueInfoMetadata: (m: Record<string, string>) => encodeStringMap(4, m),
  tensorMetadata: (m: Record<string, string>) => encodeStringMap(16, m),
  /** ModelProto.configuration (26) with a DeviceConfigurationProto {name=1, num_devices=2}. */
  modelConfiguration: () => new WireWriter().bytes(26, new WireWriter().string(1, 'dev').tag(2, 0).varint(2).finish()).finish(),
  /** NodeProto.device_configurations (10). */
  nodeDeviceConfig: () => new WireWriter().bytes(10, new WireWriter().string(1, 'cfg').finish()).finish(),
};
export { setUnknownFields };

function f16(values: number[]): Uint16Array {
  // float16 bits for small exact values (sign, exponent, mantissa computed directly)
  return Uint16Array.from(values, (v) => {
    if (v === 0) return 0;
    const sign = v < 0 ? 0x8000 : 0;
    const a = Math.abs(v);
    const e = Math.floor(Math.log2(a));
    const m = Math.round((a / 2 ** e - 1) * 1024);
    return sign | ((e + 15) << 10) | m;
  });
}

/**
 * The ORT-runnable kitchen-sink model: float16 initializer (Cast to float), Constant-node weights
 * (value, value_float, value_ints), an If whose branches read outer-scope values and hold their own
 * Constants, a model-local function, metadata and doc strings everywhere, value_info with symbolic
 * dims, node and graph metadata_props (fields newer than onnx-proto).
 */
export function kitchenSinkProto(): OnnxTypes.IModelProto {
  const W = f16([0.5, -1, 2, 0.25, 1.5, -0.75, 3, 0.125, -2, 1, 0.5, -0.5]);
  const w16 = rawTensor('W16', T.FLOAT16, [4, 3], bytesOf(W));
  setUnknownFields(w16, [newer.tensorMetadata({ origin: 'test' })]);
  w16.docString = 'float16 weights';
  const bias: OnnxTypes.ITensorProto = { dataType: T.FLOAT, dims: [3], floatData: [0.1, -0.2, 0.3] };
  const thenBranch: OnnxTypes.IGraphProto = {
    name: 'then_branch',
    node: [
      node('Constant', [], ['two'], [attr.f('value_float', 2)]),
      node('Mul', ['Y2', 'two'], ['then_out']),
    ],
    output: [vi('then_out', T.FLOAT, ['N', 3])],
  };
  const elseBranch: OnnxTypes.IGraphProto = {
    name: 'else_branch',
    node: [
      node('Constant', [], ['k'], [attr.t('value', { dataType: T.FLOAT, dims: [1, 3], rawData: bytesOf(new Float32Array([1, 2, 3])) })]),
      node('Sub', ['Y2', 'k'], ['else_out']),
    ],
    output: [vi('else_out', T.FLOAT, ['N', 3])],
  };
  const ifNode = node('If', ['cond'], ['Y3'], [attr.g('then_branch', thenBranch), attr.g('else_branch', elseBranch)], { docString: 'branch on cond' });
  setUnknownFields(ifNode, [newer.nodeMetadata({ source: 'fixture', line: '42' })]);
  const square: OnnxTypes.IFunctionProto = {
    name: 'Square',
    domain: 'local.fn',
    input: ['x'],
    output: ['y'],
    node: [{ opType: 'Mul', input: ['x', 'x'], output: ['y'] }],
    opsetImport: [{ domain: '', version: 17 }],
    docString: 'x * x',
  };
  const graph: OnnxTypes.IGraphProto = {
    name: 'kitchen_sink',
    docString: 'a graph with everything',
    node: [
      node('Cast', ['W16'], ['W'], [attr.i('to', T.FLOAT)]),
      node('Constant', [], ['B'], [attr.t('value', bias)]),
      node('Constant', [], ['shape'], [attr.ints('value_ints', [-1, 3])]),
      node('MatMul', ['X', 'W'], ['Y1']),
      node('Add', ['Y1', 'B'], ['Y2b']),
      node('Reshape', ['Y2b', 'shape'], ['Y2']),
      ifNode,
      node('Square', ['Y3'], ['Z'], [], { domain: 'local.fn' }),
    ],
    input: [vi('X', T.FLOAT, ['N', 4], { docString: 'batch of rows' }), vi('cond', T.BOOL, [])],
    output: [vi('Z', T.FLOAT, ['N', 3]), vi('Y2', T.FLOAT, ['N', 3])],
    initializer: [w16],
    valueInfo: [vi('Y1', T.FLOAT, ['N', 3]), vi('W', T.FLOAT, [4, 3]), vi('Y3', T.FLOAT, [null, 3])],
  };
  setUnknownFields(graph, [newer.graphMetadata({ stage: 'test' })]);
  graph.input![0]!.type && setUnknownFields(graph.input![0]!, [newer.valueInfoMetadata({ unit: 'px' })]);
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'local.fn', version: 1 }],
    producerName: 'whittle-test',
    producerVersion: '0.0.1',
    domain: 'org.whittle.test',
    modelVersion: 3,
    docString: 'kitchen sink model',
    metadataProps: [{ key: 'author', value: 'helper F' }, { key: 'license', value: 'MIT' }],
    graph,
    functions: [square],
  };
}
