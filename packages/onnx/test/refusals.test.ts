import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@whittle/tensor';
import type { Graph, Model } from '@whittle/graph';
import {
  ExternalDataError,
  GraphValidationError,
  OnnxFormatError,
  UnsafePathError,
  readModel,
  writeModel,
  readTensorProto,
} from '../src/index.js';
import { readModelFile, writeModelFile } from '../src/node.js';
import { attr, bytesOf, encode, kitchenSinkProto, node, onnx, T, vi } from './fixtures.js';
import type { OnnxTypes } from '../src/proto.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'whittle-refuse-'));
}

/** read → write pipeline, as the CLI does it. */
async function convert(input: string, output: string): Promise<void> {
  await writeModelFile(await readModelFile(input), output);
}

function modelWith(init: OnnxTypes.ITensorProto, extra: Partial<OnnxTypes.IGraphProto> = {}): Uint8Array {
  return encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [node('Identity', [init.name ?? 'w'], ['y'])],
      output: [vi('y', T.FLOAT, null)],
      initializer: [init],
      ...extra,
    },
  });
}

/** Expect `f` to reject with `cls` and a message matching `re`, and `dir` to hold only `keep`. */
async function expectRefusal(f: () => Promise<unknown> | unknown, cls: new (...a: never[]) => Error, re: RegExp, dir?: string, keep: string[] = []): Promise<void> {
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(re);
  if (dir) expect(readdirSync(dir).sort()).toEqual([...keep].sort());
}

describe('refuses malformed bytes', () => {
  const good = encode(kitchenSinkProto());

  it('truncated models (cut inside the graph) and nothing is written', async () => {
    const dir = tmp();
    for (const cut of [good.length - 1, good.length - 100, Math.floor(good.length / 2), 40]) {
      writeFileSync(join(dir, 'in.onnx'), good.subarray(0, cut));
      await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), OnnxFormatError, /truncated or not an ONNX|not an ONNX model/, dir, ['in.onnx']);
    }
  });

  it('an ArrayBuffer (what fetch and File give) reads as its bytes', () => {
    const copy = good.slice();
    const m = readModel(copy.buffer);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(readModel(good).graph.nodes.map((n) => n.opType));
  });

  it('bytes that are not ONNX', async () => {
    const dir = tmp();
    const cases = [
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13),
      new TextEncoder().encode('hello world, this is text'),
      new TextEncoder().encode('{"not": "onnx"}'),
    ];
    for (const c of cases) {
      writeFileSync(join(dir, 'in.onnx'), c);
      await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), OnnxFormatError, /not an ONNX/, dir, ['in.onnx']);
    }
    await expectRefusal(() => readModel(new Uint8Array(0)), OnnxFormatError, /empty input/);
    // a path or nothing is not bytes: said as such
    await expectRefusal(() => readModel('model.onnx' as unknown as Uint8Array), OnnxFormatError, /expected the bytes of a \.onnx file \(a Uint8Array or ArrayBuffer\), got a string \('model\.onnx'; in Node, read the file with readModelFile/);
    await expectRefusal(() => readModel(null as unknown as Uint8Array), OnnxFormatError, /got null/);
    // parses as protobuf (an OperatorSetIdProto-like message) but has no graph
    await expectRefusal(() => readModel(onnx.ModelProto.encode({ irVersion: 8, producerName: 'x' }).finish()), OnnxFormatError, /hold no graph/);
  });

  it('raw_data whose length disagrees with dims', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.onnx'), modelWith({ name: 'w', dataType: T.FLOAT, dims: [2, 1], rawData: new Uint8Array(7) }));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), OnnxFormatError, /initializer 'w': raw_data has 7 bytes but dims \[2,1\] of float32 need 8/, dir, ['in.onnx']);
    await expectRefusal(() => readModel(modelWith({ name: 'q', dataType: T.INT4, dims: [5], rawData: new Uint8Array(2) })), OnnxFormatError, /'q': raw_data has 2 bytes but dims \[5\] of int4 need 3/);
    await expectRefusal(() => readModel(modelWith({ name: 'f', dataType: T.FLOAT, dims: [3], floatData: [1, 2] })), OnnxFormatError, /'f'.*float_data has 2/);
    await expectRefusal(() => readModel(modelWith({ name: 'n', dataType: T.FLOAT, dims: [3] })), OnnxFormatError, /'n'.*has no data/);
    await expectRefusal(() => readTensorProto(onnx.TensorProto.encode({ name: 'p', dataType: T.INT64, dims: [2], rawData: new Uint8Array(15) }).finish()), OnnxFormatError, /raw_data has 15 bytes/);
  });

  it('absurd dims, before allocating anything', async () => {
    await expectRefusal(() => readModel(modelWith({ name: 'neg', dataType: T.FLOAT, dims: [4, -3], rawData: new Uint8Array(0) })), OnnxFormatError, /'neg': dimension -3/);
    // 2^40 elements (4 TiB) claimed with 4 bytes of data: refused by the size check, not by an allocation failure
    await expectRefusal(() => readModel(modelWith({ name: 'huge', dataType: T.FLOAT, dims: [1 << 20, 1 << 20], rawData: new Uint8Array(4) })), OnnxFormatError, /'huge': raw_data has 4 bytes but dims \[1048576,1048576\]/);
    await expectRefusal(() => readModel(modelWith({ name: 'huge2', dataType: T.FLOAT, dims: [1e6, 1e6], floatData: [1] })), OnnxFormatError, /'huge2'.*float_data has 1/);
    await expectRefusal(() => readModel(modelWith({ name: 'inf', dataType: T.FLOAT, dims: [2 ** 30, 2 ** 30, 2 ** 30], rawData: new Uint8Array(4) })), OnnxFormatError, /'inf': dims .* more elements than can exist/);
    await expectRefusal(() => readModel(modelWith({ name: 'ty', dataType: 99, dims: [1], rawData: new Uint8Array(1) })), OnnxFormatError, /'ty': unknown tensor data_type 99/);
  });
});

describe('refuses unsafe or broken external data', () => {
  function extModel(location: string, offset = 0, length?: number): Uint8Array {
    const ext = [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }];
    if (length !== undefined) ext.push({ key: 'length', value: String(length) });
    return modelWith({ name: 'w', dataType: T.FLOAT, dims: [4], dataLocation: 1, externalData: ext });
  }

  it('reads valid external data (sanity)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'd.bin'), bytesOf(Float32Array.of(9, 1, 2, 3, 4)));
    writeFileSync(join(dir, 'in.onnx'), extModel('d.bin', 4, 16));
    const m = await readModelFile(join(dir, 'in.onnx'));
    expect(Array.from(m.graph.initializers.get('w')!.dataSync() as ArrayLike<number>)).toEqual([1, 2, 3, 4]);
  });

  it('absolute locations, "..", and symlinks leaving the folder', async () => {
    const outside = tmp();
    writeFileSync(join(outside, 'secret.bin'), new Uint8Array(64));
    const dir = tmp();
    const cases: [string, RegExp][] = [
      [join(outside, 'secret.bin'), /is absolute/],
      ['../' + outside.split('/').pop() + '/secret.bin', /contains "\.\."/],
      ['sub/../../secret.bin', /contains "\.\."/],
      ['C:\\secret.bin', /is absolute/],
    ];
    for (const [loc, re] of cases) {
      writeFileSync(join(dir, 'in.onnx'), extModel(loc));
      await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), UnsafePathError, re, dir, ['in.onnx']);
      await expectRefusal(() => readModel(extModel(loc), { externalData: new Map([[loc, new Uint8Array(64)]]) }), UnsafePathError, re);
    }
    symlinkSync(join(outside, 'secret.bin'), join(dir, 'link.bin'));
    writeFileSync(join(dir, 'in.onnx'), extModel('link.bin'));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), UnsafePathError, /'link.bin' resolves to .*outside the model folder/, dir, ['in.onnx', 'link.bin']);
    mkdirSync(join(dir, 'sub'));
    symlinkSync(outside, join(dir, 'sub', 'escape'));
    writeFileSync(join(dir, 'in.onnx'), extModel('sub/escape/secret.bin'));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), UnsafePathError, /outside the model folder/, dir, ['in.onnx', 'link.bin', 'sub']);
  });

  it('offset/length beyond the file, length disagreeing with dims, missing files', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'd.bin'), new Uint8Array(20));
    writeFileSync(join(dir, 'in.onnx'), extModel('d.bin', 8));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), ExternalDataError, /\[8, 24\) lies beyond the end of 'd.bin' \(20 bytes\)/, dir, ['d.bin', 'in.onnx']);
    writeFileSync(join(dir, 'in.onnx'), extModel('d.bin', 1000, 16));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), ExternalDataError, /beyond the end/, dir, ['d.bin', 'in.onnx']);
    writeFileSync(join(dir, 'in.onnx'), extModel('d.bin', 0, 12));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), ExternalDataError, /length 12 disagrees with dims \[4\]/, dir, ['d.bin', 'in.onnx']);
    writeFileSync(join(dir, 'in.onnx'), extModel('nope.bin'));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), ExternalDataError, /'nope.bin' not found/, dir, ['d.bin', 'in.onnx']);
    await expectRefusal(() => readModel(extModel('d.bin', 8), { externalData: new Map([['d.bin', new Uint8Array(20)]]) }), ExternalDataError, /beyond the end/);
    await expectRefusal(() => readModel(extModel('d.bin')), ExternalDataError, /'d.bin' was not provided/);
  });
});

describe('refuses broken graphs', () => {
  function graphModel(nodes: OnnxTypes.INodeProto[], inputs = ['x']): Uint8Array {
    return encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'g', node: nodes, input: inputs.map((n) => vi(n, T.FLOAT, [1])), output: [vi('y', T.FLOAT, [1])] },
    });
  }

  it('cycles', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.onnx'), graphModel([node('Add', ['x', 'b'], ['a']), node('Relu', ['a'], ['b']), node('Identity', ['a'], ['y'])]));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), GraphValidationError, /cycle through node 'Add_a' \(Add\), node 'Relu_b' \(Relu\)/, dir, ['in.onnx']);
    await expectRefusal(() => readModel(graphModel([node('Add', ['x', 'y'], ['y'])])), GraphValidationError, /cycle/);
  });

  it('inputs that are never defined, also inside subgraphs (outer scope respected)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.onnx'), graphModel([node('Add', ['x', 'ghost'], ['y'])]));
    await expectRefusal(() => convert(join(dir, 'in.onnx'), join(dir, 'out.onnx')), GraphValidationError, /node 'Add_y' \(Add\) reads 'ghost', which is never defined/, dir, ['in.onnx']);
    const sub = (ref: string) => ({ name: 'b', node: [node('Identity', [ref], ['o'])], output: [vi('o', T.FLOAT, [1])] });
    const ifModel = (ref: string) => graphModel([node('If', ['c'], ['y'], [attr.g('then_branch', sub(ref)), attr.g('else_branch', sub('x'))])], ['x', 'c']);
    expect(readModel(ifModel('x')).graph.nodes).toHaveLength(1); // outer-scope 'x' is fine
    await expectRefusal(() => readModel(ifModel('nowhere')), GraphValidationError, /node 'If_y' \(If\) reads 'nowhere'/);
    await expectRefusal(() => readModel(graphModel([node('Relu', ['x'], ['y']), node('Neg', ['x'], ['y'])])), GraphValidationError, /'y' is produced by node 'Relu_y' \(Relu\) and again by node 'Neg_y'/);
  });
});

describe('atomic writes', () => {
  function irModel(): Model {
    const g: Graph = {
      name: 'g',
      nodes: [{ name: 'n', opType: 'Add', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: new Map() }],
      inputs: [{ name: 'x', type: { kind: 'tensor', elemType: 'float32', shape: [2] } }],
      outputs: [{ name: 'y', type: { kind: 'tensor', elemType: 'float32', shape: [2] } }],
      valueInfo: new Map(),
      initializers: new Map([['w', tensor([1, 2], [2], 'float32', { backend: 'cpu' })]]),
      rawInitializers: new Map(),
    };
    return { irVersion: 8, opsetImports: [{ domain: '', version: 17 }], metadataProps: {}, graph: g };
  }

  it('an invalid graph, an unsafe external location, or a bad tensor leave no file', async () => {
    const dir = tmp();
    const cyclic = irModel();
    cyclic.graph.nodes[0]!.inputs = ['x', 'y'];
    await expectRefusal(() => writeModelFile(cyclic, join(dir, 'o.onnx')), GraphValidationError, /cycle/, dir, []);
    await expectRefusal(() => writeModelFile(irModel(), join(dir, 'o.onnx'), { externalData: { location: '../o.data' } }), UnsafePathError, /contains "\.\."/, dir, []);
    await expectRefusal(() => writeModelFile(irModel(), join(dir, 'o.onnx'), { externalData: { location: 'o.onnx' } }), UnsafePathError, /is the model file itself/, dir, []);
    const bad = irModel();
    bad.graph.rawInitializers.set('r', { dataType: 'float64', dims: [3], rawData: new Uint8Array(5) });
    await expectRefusal(() => writeModelFile(bad, join(dir, 'o.onnx'), { externalData: { location: 'o.data', sizeThreshold: 0 } }), OnnxFormatError, /initializer 'r': 5 data bytes for dims \[3\] of float64 \(need 24\)/, dir, []);
    expect(() => writeModel(bad)).toThrow(OnnxFormatError);
  });

  it('a failing rename removes the temp files; the input is never modified', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'o.onnx')); // target is a directory: rename fails after the temp file was written
    await expectRefusal(() => writeModelFile(irModel(), join(dir, 'o.onnx'), { externalData: { location: 'o.data', sizeThreshold: 0 } }), OnnxFormatError, /could not write/, dir, ['o.onnx']);
    // the data file renamed into place before the model rename failed is removed again, and so are the temp files
    expect(readdirSync(dir).some((f) => f.includes('.tmp-'))).toBe(false);
    const src = join(dir, 'in.onnx');
    const original = encode(kitchenSinkProto());
    writeFileSync(src, original);
    await convert(src, join(dir, 'copy.onnx'));
    expect(Buffer.from(readFileSync(src)).equals(Buffer.from(original))).toBe(true);
    await convert(src, src); // in place: replaced atomically with an equivalent model
    expect(readModel(readFileSync(src)).graph.nodes.length).toBe(readModel(original).graph.nodes.length);
    expect(readdirSync(dir).some((f) => f.includes('.tmp-'))).toBe(false);
    expect(existsSync(join(dir, 'copy.onnx'))).toBe(true);
  });
});
