import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readPacked, type Tensor } from '@whittle/tensor';
import { readModel, writeModel, readTensorProto, writeTensorProto, readSequenceProto, readOptionalProto, readMapProto } from '../src/index.js';
import { attr, bytesOf, encode, newer, node, onnx, setUnknownFields, T, vi } from './fixtures.js';
import { modelSnap, tensorSnap } from './snapshot.js';
import { WireWriter } from '../src/wire.js';

const I64_MAX = 9223372036854775807n;

function exoticProto() {
  const sparse: Parameters<typeof onnx.SparseTensorProto.encode>[0] = {
    values: { name: 'sp', dataType: T.FLOAT, dims: [2], floatData: [5, 6] },
    indices: { dataType: T.INT64, dims: [2], int64Data: [1, 7] },
    dims: [3, 3],
  };
  const inits = [
    { name: 'bf16', dataType: T.BFLOAT16, dims: [2], rawData: bytesOf(Uint16Array.of(0x3f80, 0xc000)) },
    { name: 'i4', dataType: T.INT4, dims: [3], int32Data: [0x78, 0x03] }, // elements -8, 7, 3 (low nibble first)
    { name: 'u4', dataType: T.UINT4, dims: [3], rawData: Uint8Array.of(0x21, 0x0f) },
    { name: 'i2', dataType: T.INT2, dims: [5], rawData: Uint8Array.of(0b11_10_01_00, 0b01) },
    { name: 'u2', dataType: T.UINT2, dims: [4], rawData: Uint8Array.of(0b11_10_01_00) },
    { name: 'i64', dataType: T.INT64, dims: [3], int64Data: [-5, 1 << 30, { low: -1, high: 0x7fffffff, unsigned: false }] },
    { name: 'b', dataType: T.BOOL, dims: [3], int32Data: [1, 0, 1] },
    { name: 'h', dataType: T.FLOAT16, dims: [2], int32Data: [0x3c00, 0xc000] },
    { name: 'i8', dataType: T.INT8, dims: [2], int32Data: [-128, 127] },
    { name: 'u8', dataType: T.UINT8, dims: [2], rawData: Uint8Array.of(0, 255) },
    { name: 's', dataType: T.STRING, dims: [2], stringData: [new TextEncoder().encode('héllo'), Uint8Array.of(0xff, 0x00)] },
    { name: 'd', dataType: T.DOUBLE, dims: [2], doubleData: [Math.PI, -1e300] },
    { name: 'u64', dataType: T.UINT64, dims: [1], uint64Data: [{ low: -1, high: -1, unsigned: true }] },
    { name: 'u32', dataType: T.UINT32, dims: [2], uint64Data: [4294967295, 7] },
    { name: 'u16', dataType: T.UINT16, dims: [2], int32Data: [65535, 1] },
    { name: 'f', dataType: T.FLOAT, dims: [2, 1], floatData: [1.5, -0.25] },
    { name: 'empty', dataType: T.FLOAT, dims: [0, 3] },
    { name: 'bf_typed', dataType: T.BFLOAT16, dims: [1], int32Data: [0x4049] },
  ];
  const body: Parameters<typeof onnx.GraphProto.encode>[0] = { name: 'body', node: [node('Identity', ['f'], ['bo'])], output: [vi('bo', T.FLOAT, [2, 1])] };
  const fancy = node('FancyOp', ['f', 'i64', ''], ['y', '', 'z'], [
    attr.floats('alphas', [0.5, -1.25]),
    { name: 'ends', type: 7, ints: [0, -1, { low: -1, high: 0x7fffffff } as never] },
    { name: 'names', type: 8, strings: [new TextEncoder().encode('a'), new TextEncoder().encode('ü')] },
    { name: 'weights', type: 9, tensors: [{ dataType: T.FLOAT, dims: [1], floatData: [3] }, { dataType: T.DOUBLE, dims: [], doubleData: [2] }] },
    { name: 'bodies', type: 10, graphs: [body, { ...body, name: 'body2' }] },
    { name: 'sp_attr', type: 11, sparseTensor: sparse },
    { name: 'tp', type: 13, tp: { tensorType: { elemType: T.FLOAT } } },
    { name: 'legacy', f: 0.75 }, // IR v1 style: no type
    { name: 'blob', type: 3, s: Uint8Array.of(0xc3, 0x28) }, // invalid UTF-8
    { name: 'documented', type: 2, i: 4, docString: 'attribute doc' },
    { name: 'big', type: 2, i: { low: -1, high: 0x7fffffff } as never },
  ], { domain: 'com.example', docString: 'a custom op' });
  setUnknownFields(fancy, [newer.nodeOverload('v2'), newer.nodeDeviceConfig()]);
  const seqType = { sequenceType: { elemType: { tensorType: { elemType: T.FLOAT } } } };
  const optType = { optionalType: { elemType: { tensorType: { elemType: T.INT64, shape: { dim: [{ dimParam: 'K' }] } } } } };
  return {
    irVersion: 10,
    opsetImport: [{ domain: '', version: 22 }, { domain: 'com.example', version: 3 }],
    producerName: 'x',
    graph: {
      name: 'exotic',
      node: [fancy, node('Identity', ['z'], ['out'])],
      input: [{ name: 'seq', type: seqType }, vi('unknown_rank', T.FLOAT, null)],
      output: [vi('y', T.FLOAT, ['batch', null, 3]), { name: 'out', type: optType, docString: 'optional output' }],
      initializer: inits,
      sparseInitializer: [sparse],
      quantizationAnnotation: [{ tensorName: 'y', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 'f' }] }],
      valueInfo: [{ name: 'z', type: optType }],
    },
    trainingInfo: [{ initialization: { name: 'init', node: [] }, updateBinding: [{ key: 'f', value: 'y' }] }],
  };
}

describe('models ORT cannot run: field equality', () => {
  const bytes = (() => {
    const m = onnx.ModelProto.encode(exoticProto()).finish();
    return Uint8Array.from(Buffer.concat([m, newer.modelConfiguration()]));
  })();

  it('decodes every TensorProto data type and layout to the right values', () => {
    const g = readModel(bytes).graph;
    const t = (n: string) => g.initializers.get(n)!;
    const r = (n: string) => g.rawInitializers.get(n)!;
    const packed = (x: Tensor) => Array.from({ length: x.size }, (_, i) => readPacked(x.dtype, x.dataSync() as Uint8Array, i));
    expect(packed(t('i4'))).toEqual([-8, 7, 3]);
    expect(packed(t('u4'))).toEqual([1, 2, 15]);
    expect(packed(t('i2'))).toEqual([0, 1, -2, -1, 1]);
    expect(packed(t('u2'))).toEqual([0, 1, 2, 3]);
    expect(Array.from(t('i64').dataSync() as BigInt64Array)).toEqual([-5n, 1n << 30n, I64_MAX]);
    expect([t('b').dtype, Array.from(t('b').dataSync() as ArrayLike<number>)]).toEqual(['bool', [1, 0, 1]]);
    expect([t('h').dtype, Array.from(t('h').dataSync() as ArrayLike<number>)]).toEqual(['float16', [0x3c00, 0xc000]]);
    expect(Array.from(t('i8').dataSync() as ArrayLike<number>)).toEqual([-128, 127]);
    expect(Array.from(t('u8').dataSync() as ArrayLike<number>)).toEqual([0, 255]);
    expect(Array.from(t('f').dataSync() as ArrayLike<number>)).toEqual([1.5, -0.25]);
    expect([...t('empty').shape]).toEqual([0, 3]);
    expect([t('bf16').dtype, Array.from(t('bf16').dataSync() as Uint16Array)]).toEqual(['bfloat16', [0x3f80, 0xc000]]);
    expect(Array.from(t('bf_typed').dataSync() as Uint16Array)).toEqual([0x4049]);
    expect(r('s').strings).toEqual([new TextEncoder().encode('héllo'), Uint8Array.of(0xff, 0)]);
    expect([t('d').dtype, Array.from(t('d').dataSync() as Float64Array)]).toEqual(['float64', [Math.PI, -1e300]]);
    expect([t('u64').dtype, Array.from(t('u64').dataSync() as BigUint64Array)]).toEqual(['uint64', [2n ** 64n - 1n]]);
    expect([t('u32').dtype, Array.from(t('u32').dataSync() as Uint32Array)]).toEqual(['uint32', [4294967295, 7]]);
    expect([t('u16').dtype, Array.from(t('u16').dataSync() as Uint16Array)]).toEqual(['uint16', [65535, 1]]);
  });

  it('keeps the custom-domain node, its opset import, attributes, types and passthrough fields', () => {
    const m = readModel(bytes);
    expect(m.opsetImports).toContainEqual({ domain: 'com.example', version: 3 });
    expect(m.unknownFields).toEqual([newer.modelConfiguration()]);
    expect(m.trainingInfo).toHaveLength(1);
    const n = m.graph.nodes[0]!;
    expect([n.opType, n.domain, n.docString, n.overload]).toEqual(['FancyOp', 'com.example', 'a custom op', 'v2']);
    expect(n.inputs).toEqual(['f', 'i64', '']);
    expect(n.outputs).toEqual(['y', '', 'z']);
    expect(n.unknownFields).toEqual([newer.nodeDeviceConfig()]);
    const a = Object.fromEntries(n.attributes);
    expect(a['alphas']).toEqual({ type: 'floats', value: [0.5, -1.25] });
    expect(a['ends']).toEqual({ type: 'ints', value: [0, -1, 2 ** 63] });
    expect(a['names']).toEqual({ type: 'strings', value: ['a', 'ü'] });
    expect(a['legacy']).toEqual({ type: 'float', value: 0.75 });
    expect(a['blob']).toMatchObject({ type: 'string', bytes: Uint8Array.of(0xc3, 0x28) });
    expect(a['sp_attr']!.type).toBe('raw');
    expect(a['tp']!.type).toBe('raw');
    expect(a['documented']!.type).toBe('raw');
    expect(a['bodies']!.type).toBe('graphs');
    expect(a['weights']!.type).toBe('tensors');
    if (a['weights']!.type === 'tensors') expect((a['weights']!.value[1] as Tensor).dtype).toBe('float64');
    const g = m.graph;
    expect(g.inputs[0]!.type!.kind).toBe('sequence');
    expect(g.inputs[1]!.type).toEqual({ kind: 'tensor', elemType: 'float32' });
    expect(g.outputs[0]!.type!.shape).toEqual(['batch', null, 3]);
    expect(g.outputs[1]!.type!.kind).toBe('optional');
    expect(g.passthrough?.sparseInitializers).toHaveLength(1);
    expect(g.passthrough?.quantizationAnnotations).toHaveLength(1);
  });

  it('round-trips read → write → read with every field equal (and proto-level fields kept)', () => {
    const m1 = readModel(bytes);
    const out = writeModel(m1);
    const m2 = readModel(out);
    expect(modelSnap(m2)).toEqual(modelSnap(m1));
    const p1 = onnx.ModelProto.decode(bytes);
    const p2 = onnx.ModelProto.decode(out);
    expect(onnx.TrainingInfoProto.toObject(p2.trainingInfo[0]! as never)).toEqual(onnx.TrainingInfoProto.toObject(p1.trainingInfo[0]! as never));
    const attr2 = Object.fromEntries(p2.graph!.node![0]!.attribute!.map((x) => [x.name, x]));
    const attr1 = Object.fromEntries(p1.graph!.node![0]!.attribute!.map((x) => [x.name, x]));
    for (const k of ['sp_attr', 'tp', 'documented', 'blob', 'ends', 'big']) {
      expect(onnx.AttributeProto.toObject(attr2[k]! as never, { longs: String })).toEqual(onnx.AttributeProto.toObject(attr1[k]! as never, { longs: String }));
    }
    expect(String(attr2['big']!.i)).toBe('9223372036854775807');
    expect(writeModel(m2)).toEqual(out);
  });
});

describe('TensorProto / SequenceProto / OptionalProto / MapProto .pb', () => {
  it('reads and writes tensors, sequences, optionals and maps', () => {
    const t = readTensorProto(onnx.TensorProto.encode({ name: 'x', dataType: T.FLOAT, dims: [2], floatData: [1, 2] }).finish()) as Tensor;
    expect([t.dtype, [...t.shape], Array.from(t.dataSync() as ArrayLike<number>)]).toEqual(['float32', [2], [1, 2]]);
    expect(tensorSnap(readTensorProto(writeTensorProto(t, 'x')))).toEqual(tensorSnap(t));
    const tp = (v: number) => onnx.TensorProto.encode({ dataType: T.INT64, dims: [1], int64Data: [v] }).finish();
    const seq = new WireWriter().string(1, 'seq').tag(2, 0).varint(1).bytes(3, tp(4)).bytes(3, tp(5)).finish();
    const s = readSequenceProto(seq);
    expect([s.name, s.elemType, s.values.map((v) => Number((v as Tensor).dataSync()[0]))]).toEqual(['seq', 'tensor', [4, 5]]);
    const opt = readOptionalProto(new WireWriter().string(1, 'o').tag(2, 0).varint(3).bytes(5, seq).finish());
    expect([opt.elemType, (opt.value as { kind?: string } | null)?.kind]).toEqual(['sequence', 'sequence']);
    const none = readOptionalProto(new WireWriter().string(1, 'o').tag(2, 0).varint(1).finish());
    expect(none.value).toBeNull();
    const map = readMapProto(new WireWriter().tag(2, 0).varint(7).bytes(3, Uint8Array.of(1, 2)).bytes(5, seq).finish());
    expect([map.keyType, map.keys, map.values.values.length]).toEqual(['int64', [1n, 2n], 2]);
  });
});

describe('default-domain opsets 7 through 22', () => {
  it('reads, writes and runs a Relu/Add model at every opset', async () => {
    for (let v = 7; v <= 22; v++) {
      const bytes = encode({
        irVersion: v >= 21 ? 10 : v >= 15 ? 8 : v >= 13 ? 7 : v >= 9 ? 4 : 3,
        opsetImport: [{ domain: '', version: v }],
        graph: {
          name: `g${v}`,
          node: [node('Relu', ['x'], ['r']), node('Add', ['r', 'c'], ['y'])],
          input: [vi('x', T.FLOAT, [3]), vi('c', T.FLOAT, [3])],
          output: [vi('y', T.FLOAT, [3])],
          initializer: [{ name: 'c', dataType: T.FLOAT, dims: [3], rawData: bytesOf(Float32Array.of(1, 2, 3)) }],
        },
      });
      const m = readModel(bytes);
      expect(m.opsetImports).toEqual([{ domain: '', version: v }]);
      const out = writeModel(m);
      const feeds = { x: new ort.Tensor('float32', Float32Array.of(-1, 0.5, 2), [3]) };
      const a = await (await ort.InferenceSession.create(bytes)).run(feeds);
      const b = await (await ort.InferenceSession.create(out)).run(feeds);
      expect(Array.from(b['y']!.data as Float32Array)).toEqual(Array.from(a['y']!.data as Float32Array));
      expect(Array.from(b['y']!.data as Float32Array)).toEqual([1, 2.5, 5]);
    }
  });
});

describe('Loop and Scan subgraphs', () => {
  it('round-trips and runs bit-identically', async () => {
    // Loop: acc = acc * 1.5 + x (x from the outer scope), trip count 4
    const body = {
      name: 'loop_body',
      node: [
        node('Constant', [], ['k'], [attr.f('value_float', 1.5)]),
        node('Mul', ['acc_in', 'k'], ['m']),
        node('Add', ['m', 'x'], ['acc_out']),
        node('Identity', ['cond_in'], ['cond_out']),
      ],
      input: [vi('iter', T.INT64, []), vi('cond_in', T.BOOL, []), vi('acc_in', T.FLOAT, [2])],
      output: [vi('cond_out', T.BOOL, []), vi('acc_out', T.FLOAT, [2])],
    };
    const scanBody = {
      name: 'scan_body',
      node: [node('Add', ['s_in', 'row'], ['s_out']), node('Identity', ['s_out'], ['scan_out'])],
      input: [vi('s_in', T.FLOAT, [2]), vi('row', T.FLOAT, [2])],
      output: [vi('s_out', T.FLOAT, [2]), vi('scan_out', T.FLOAT, [2])],
    };
    const bytes = encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'loops',
        node: [
          node('Loop', ['trip', 'cond', 'x'], ['acc'], [attr.g('body', body)]),
          node('Scan', ['x', 'rows'], ['final', 'stack'], [attr.g('body', scanBody), attr.i('num_scan_inputs', 1)]),
        ],
        input: [vi('x', T.FLOAT, [2]), vi('rows', T.FLOAT, ['R', 2])],
        output: [vi('acc', T.FLOAT, [2]), vi('final', T.FLOAT, [2]), vi('stack', T.FLOAT, ['R', 2])],
        initializer: [
          { name: 'trip', dataType: T.INT64, dims: [], int64Data: [4] },
          { name: 'cond', dataType: T.BOOL, dims: [], int32Data: [1] },
        ],
      },
    });
    const m = readModel(bytes);
    const out = writeModel(m);
    expect(modelSnap(readModel(out))).toEqual(modelSnap(m));
    const feeds = { x: new ort.Tensor('float32', Float32Array.of(0.3, -1.1), [2]), rows: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]) };
    const a = await (await ort.InferenceSession.create(bytes)).run(feeds);
    const b = await (await ort.InferenceSession.create(out)).run(feeds);
    for (const k of ['acc', 'final', 'stack']) expect(bytesOf(b[k]!.data as Float32Array)).toEqual(bytesOf(a[k]!.data as Float32Array));
  });
});
