import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { float16BitsToFloat32, tensor, type Tensor } from '@whittle/tensor';
import { GraphBuilder, type Graph } from '@whittle/graph';
import { constantValue, readModel, writeModel, encodeModel } from '../src/index.js';
import { readModelFile, writeModelFile } from '../src/node.js';
import { onnx, encode, kitchenSinkProto } from './fixtures.js';
import { modelSnap } from './snapshot.js';

async function runOrt(model: Uint8Array | string, feeds: Record<string, ort.Tensor>): Promise<Record<string, Uint8Array>> {
  const s = await ort.InferenceSession.create(model as Uint8Array);
  const out = await s.run(feeds);
  const res: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(out)) {
    const d = v.data as Float32Array;
    res[k] = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  }
  await s.release();
  return res;
}

function feedsFor(cond: boolean): Record<string, ort.Tensor> {
  const x = Float32Array.from({ length: 5 * 4 }, (_, i) => Math.sin(i * 1.7) * 3);
  return { X: new ort.Tensor('float32', x, [5, 4]), cond: new ort.Tensor('bool', Uint8Array.of(cond ? 1 : 0), []) };
}

describe('kitchen-sink model', () => {
  const original = encode(kitchenSinkProto());

  it('reads every field into the IR', () => {
    const m = readModel(original, { inlineFunctions: false });
    expect(m.irVersion).toBe(8);
    expect(m.opsetImports).toEqual([{ domain: '', version: 17 }, { domain: 'local.fn', version: 1 }]);
    expect([m.producerName, m.producerVersion, m.domain, m.modelVersion, m.docString]).toEqual(['whittle-test', '0.0.1', 'org.whittle.test', 3, 'kitchen sink model']);
    expect(m.metadataProps).toEqual({ author: 'helper F', license: 'MIT' });
    const g = m.graph;
    expect(g.name).toBe('kitchen_sink');
    expect(g.docString).toBe('a graph with everything');
    expect(g.metadataProps).toEqual({ stage: 'test' });
    expect(g.inputs[0]).toEqual({ name: 'X', type: { kind: 'tensor', elemType: 'float32', shape: ['N', 4] }, docString: 'batch of rows', metadataProps: { unit: 'px' } });
    expect(g.inputs[1]!.type).toEqual({ kind: 'tensor', elemType: 'bool', shape: [] });
    expect(g.valueInfo.get('Y3')!.type).toEqual({ kind: 'tensor', elemType: 'float32', shape: [null, 3] });
    // float16 initializer stays float16, with its doc string / metadata kept as passthrough fields
    const w = g.initializers.get('W16')!;
    expect(w.dtype).toBe('float16');
    expect(w.shape).toEqual([4, 3]);
    expect(Array.from(w.dataSync() as Uint16Array, float16BitsToFloat32)).toEqual([0.5, -1, 2, 0.25, 1.5, -0.75, 3, 0.125, -2, 1, 0.5, -0.5]);
    expect(g.passthrough?.initializerFields?.['W16']?.length).toBe(2);
    // Constant nodes: value (float_data), value_ints, and value_float inside the then-branch
    const byOut = (gr: Graph, o: string) => gr.nodes.find((n) => n.outputs[0] === o)!;
    const b = constantValue(byOut(g, 'B')) as Tensor;
    expect([b.dtype, [...b.shape], Array.from(b.dataSync() as Float32Array)]).toEqual(['float32', [3], [0.1, -0.2, 0.3].map(Math.fround)]);
    const shape = constantValue(byOut(g, 'shape')) as Tensor;
    expect([shape.dtype, Array.from(shape.dataSync() as BigInt64Array)]).toEqual(['int64', [-1n, 3n]]);
    const ifNode = byOut(g, 'Y3');
    expect(ifNode.docString).toBe('branch on cond');
    expect(ifNode.metadataProps).toEqual({ source: 'fixture', line: '42' });
    const thenG = ifNode.attributes.get('then_branch');
    expect(thenG?.type).toBe('graph');
    if (thenG?.type !== 'graph') throw new Error('unreachable');
    expect(thenG.value.name).toBe('then_branch');
    const two = constantValue(thenG.value.nodes[0]!) as Tensor;
    expect([two.dtype, [...two.shape], Array.from(two.dataSync() as Float32Array)]).toEqual(['float32', [], [2]]);
    const elseG = ifNode.attributes.get('else_branch');
    if (elseG?.type !== 'graph') throw new Error('else_branch is not a graph');
    expect(Array.from((constantValue(elseG.value.nodes[0]!) as Tensor).dataSync() as Float32Array)).toEqual([1, 2, 3]);
    expect(byOut(g, 'Z').domain).toBe('local.fn');
    expect(m.functions).toHaveLength(1);
    const fn = onnx.FunctionProto.decode(m.functions![0]!);
    expect([fn.name, fn.domain, fn.docString, fn.node[0]!.opType]).toEqual(['Square', 'local.fn', 'x * x', 'Mul']);
  });

  it('by default the local function call is inlined: a Mul computes Z, the function is gone', () => {
    const m = readModel(original);
    expect(m.functions).toBeUndefined();
    const z = m.graph.nodes.find((n) => n.outputs.includes('Z'))!;
    expect([z.opType, z.domain]).toEqual(['Mul', '']);
  });

  it('round-trips read → write → read with every field equal, and re-writes byte-identically', () => {
    const m1 = readModel(original);
    const bytes1 = writeModel(m1);
    const m2 = readModel(bytes1);
    expect(modelSnap(m2)).toEqual(modelSnap(m1));
    expect(Buffer.from(writeModel(m2)).equals(Buffer.from(bytes1))).toBe(true);
  });

  it('the rewritten model runs in onnxruntime with bit-identical outputs', async () => {
    const rewritten = writeModel(readModel(original));
    for (const cond of [true, false]) {
      const a = await runOrt(original, feedsFor(cond));
      const b = await runOrt(rewritten, feedsFor(cond));
      expect(Object.keys(b).sort()).toEqual(['Y2', 'Z']);
      for (const k of Object.keys(a)) expect(Buffer.from(b[k]!).equals(Buffer.from(a[k]!))).toBe(true);
    }
  });

  it('writes external data next to the model; file reads back equal and ORT runs it identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whittle-onnx-'));
    const m = readModel(original);
    const path = join(dir, 'model.onnx');
    await writeModelFile(m, path, { externalData: { location: 'model.onnx.data', sizeThreshold: 8 } });
    expect(readdirSync(dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    // W16 (24 B), B (12 B) and the else-branch constant (12 B) are external
    expect(statSync(join(dir, 'model.onnx.data')).size).toBeGreaterThanOrEqual(24 + 12 + 12);
    const proto = onnx.ModelProto.decode(readFileSync(path));
    expect(proto.graph!.initializer![0]!.dataLocation).toBe(1);
    expect(proto.graph!.initializer![0]!.externalData!.map((e) => e.key)).toEqual(['location', 'offset', 'length']);
    const back = await readModelFile(path);
    expect(modelSnap(back)).toEqual(modelSnap(m));
    const a = await runOrt(original, feedsFor(true));
    const b = await runOrt(path, feedsFor(true));
    for (const k of Object.keys(a)) expect(Buffer.from(b[k]!).equals(Buffer.from(a[k]!))).toBe(true);
  });

  it('encodeModel puts tensors at or above the threshold into one external blob', () => {
    const m = readModel(original);
    const enc = encodeModel(m, { externalData: { location: 'w.bin', sizeThreshold: 20 } });
    expect(enc.externalData?.location).toBe('w.bin');
    const blob = Buffer.concat(enc.externalData!.chunks);
    expect(blob.length).toBe(enc.externalData!.size);
    // only W16 (24 bytes) is at least 20 bytes
    const w = readModel(enc.model, { externalData: new Map([['w.bin', new Uint8Array(blob)]]) });
    expect(modelSnap(w)).toEqual(modelSnap(m));
    const p = onnx.ModelProto.decode(enc.model);
    expect(p.graph!.initializer!.filter((t) => t.dataLocation === 1).map((t) => t.name)).toEqual(['W16']);
  });

  it('writeModelFile moves data external when the protobuf would exceed the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whittle-onnx-'));
    const m = readModel(original);
    m.graph.initializers.set('big', tensor(Float32Array.from({ length: 600 }, (_, i) => i / 7), [600], 'float32', { backend: 'cpu' }));
    const inline = writeModel(m);
    expect(() => writeModel(m, { maxProtobufBytes: 2000 })).toThrow(/more than a protobuf can.*external data/);
    expect(() => writeModel(m, { maxProtobufBytes: inline.length - 1 })).toThrow(/over the protobuf limit/);
    const path = join(dir, 'big.onnx');
    await writeModelFile(m, path, { maxProtobufBytes: inline.length - 1 });
    expect(readdirSync(dir).sort()).toEqual(['big.onnx', 'big.onnx.data']);
    expect(statSync(join(dir, 'big.onnx.data')).size).toBe(2400);
    expect(modelSnap(await readModelFile(path))).toEqual(modelSnap(m));
    // below the limit nothing goes external
    const path2 = join(dir, 'small.onnx');
    await writeModelFile(m, path2, { maxProtobufBytes: inline.length });
    expect(existsSync(join(dir, 'small.onnx.data'))).toBe(false);
    expect(Buffer.from(readFileSync(path2)).equals(Buffer.from(inline))).toBe(true);
  });
});

describe('readModelFile on unaligned inline payloads', () => {
  it('views every large payload in the file buffer (moved in place, not copied), values and re-encoded bytes unchanged', async () => {
    // names of 1..8 characters shift each raw_data to every offset modulo 4 and 8
    const b = new GraphBuilder('aligned');
    b.output(b.node('Identity', [b.input('x', 'float32', [1])]), 'float32', [1]);
    const m = b.model([{ domain: '', version: 17 }]);
    const want = new Map<string, ArrayLike<number | bigint>>();
    for (let k = 1; k <= 8; k++) {
      const f32 = Float32Array.from({ length: 64 + k }, (_, i) => Math.sin(i * k) * 100);
      const i64 = BigInt64Array.from({ length: 40 + k }, (_, i) => BigInt(i * k) - 7n);
      const f16 = Uint16Array.from({ length: 100 + k }, (_, i) => (i * 37 + k) & 0x7bff);
      const tiny = Float32Array.from({ length: k }, (_, i) => i + 0.5);
      m.graph.initializers.set('f'.repeat(k), tensor(f32, [f32.length], 'float32', { backend: 'cpu' }));
      m.graph.initializers.set('i'.repeat(k), tensor(i64, [i64.length], 'int64', { backend: 'cpu' }));
      m.graph.initializers.set('h'.repeat(k), tensor(f16, [f16.length], 'float16', { backend: 'cpu' }));
      m.graph.initializers.set('t'.repeat(k), tensor(tiny, [tiny.length], 'float32', { backend: 'cpu' }));
      want.set('f'.repeat(k), f32).set('i'.repeat(k), i64).set('h'.repeat(k), f16).set('t'.repeat(k), tiny);
    }
    const bytes = writeModel(m, { validate: false });
    const dir = mkdtempSync(join(tmpdir(), 'whittle-align-'));
    const path = join(dir, 'm.onnx');
    await writeModelFile(m, path, { validate: false });
    const read = await readModelFile(path, { validate: false });
    const buffers = new Set<ArrayBufferLike>();
    let large = 0;
    for (const [name, values] of want) {
      const data = read.graph.initializers.get(name)!.dataSync() as unknown as ArrayLike<number | bigint>;
      expect(Array.from(data), name).toEqual(Array.from(values));
      // float payloads of 128 bytes or more have a header long enough to move over (an int64 one
      // may be off by up to 7 bytes, more than its 3-byte header: those are copied)
      if (!name.startsWith('i') && (values as unknown as { byteLength: number }).byteLength >= 128) {
        // the storage itself (dataSync returns a copy)
        const storage = (read.graph.initializers.get(name)! as unknown as { infoChecked(): { handle: { values: ArrayBufferView } } }).infoChecked().handle.values;
        buffers.add(storage.buffer);
        large++;
      }
    }
    // one buffer, the file's, viewed by every large float32/float16 tensor whatever its offset
    expect(large).toBe(16);
    expect(buffers.size).toBe(1);
    // reading left nothing behind that changes what the model encodes to
    expect(Buffer.from(writeModel(read, { validate: false })).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(bytes))).toBe(true);
  });
});
