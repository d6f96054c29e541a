/**
 * A bad `-o` is refused before any work, with a usage error naming the path, and leaves nothing
 * behind; `quantize stream` on a model it cannot convert fails instead of reporting success.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-outpath-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** x [1, 64] → MatMul(W 64×64, weights inline) → y. */
function inlineModel(): string {
  const rng = new Rng(1);
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 64]);
  const w = b.initializer('W', tensor(Float32Array.from({ length: 64 * 64 }, () => rng.normal()), [64, 64]));
  b.node('MatMul', [x, w], {}, { outputNames: ['y'] });
  b.output('y', 'float32', [1, 64]);
  const p = join(dir, 'inline.onnx');
  writeFileSync(p, writeModel(b.model()));
  return p;
}

describe('output path checks', () => {
  const model = inlineModel();
  const folder = join(dir, 'a_folder.onnx');
  mkdirSync(folder);
  const file = join(dir, 'plain.txt');
  writeFileSync(file, 'x');

  it.each([
    ['quantize', 'weights'],
    ['quantize', 'stream'],
  ])('%s %s -o <a directory> is a usage error naming it; nothing is written beside it', async (...cmd) => {
    const r = await whittleInProcess(...cmd, model, '-o', folder);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`UsageError: output '${folder}' is a directory`);
    expect(readdirSync(dir).filter((f) => f.startsWith('a_folder'))).toEqual(['a_folder.onnx']);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('an empty -o is a usage error, not "is a directory" (the working folder)', async () => {
    const r = await whittleInProcess('quantize', 'weights', model, '-o', '');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('UsageError: output path is empty');
  });

  it('-o under an existing file names the file in the way', async () => {
    const r = await whittleInProcess('prune', 'unstructured', model, '-o', join(file, 'out.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`'${file}' is a file, not a directory`);
  });

  it('evaluate --report <a file> is refused before evaluating, naming it', async () => {
    const r = await whittleInProcess('evaluate', model, '--data', 'synthetic:2', '--no-latency', '--report', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`UsageError: --report '${file}' is a file`);
    expect(r.stdout).toBe('');
  });

  it('a truncated model file is a format error naming the file, and nothing is written', async () => {
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, readFileSync(model).subarray(0, 200));
    const out = join(dir, 'from_cut.onnx');
    const r = await whittleInProcess('quantize', 'weights', cut, '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`OnnxFormatError: ${cut}: readModel: protobuf parse failed`);
    expect(readdirSync(dir).filter((f) => f.startsWith('from_cut'))).toEqual([]);
  });

  it('quantize stream: a missing input is a usage error, not a raw ENOENT', async () => {
    const r = await whittleInProcess('quantize', 'stream', join(dir, 'missing.onnx'), '-o', join(dir, 'o.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`UsageError: input model '${join(dir, 'missing.onnx')}' does not exist`);
  });

  it('quantize stream: weights stored inline are not converted, so it fails and writes nothing', async () => {
    const out = join(dir, 'stream_inline.onnx');
    const r = await whittleInProcess('quantize', 'stream', model, '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NoCompressionError: no float32 or float16 2-D MatMul weight in external data.*quantize weights --format matmulnbits/);
    expect(readdirSync(dir).filter((f) => f.startsWith('stream_inline'))).toEqual([]);
  });

  it('-o naming the input\'s external data file (or a symlink to the input) is refused; the input stays intact', async () => {
    const src = writeSyntheticMlp(dir, [64, 32], { seed: 3, name: 'withdata' });
    const before = [readFileSync(src.modelPath), readFileSync(src.dataPath)];
    const r = await whittleInProcess('quantize', 'weights', src.modelPath, '-o', src.dataPath);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`UsageError: output '${src.dataPath}' is the input model or one of its external data files`);
    const link = join(dir, 'link.onnx');
    symlinkSync(src.modelPath, link);
    expect((await whittleInProcess('prune', 'unstructured', src.modelPath, '-o', link)).code).toBe(2);
    expect([readFileSync(src.modelPath), readFileSync(src.dataPath)]).toEqual(before);
  });

  it('quantize stream --float16 on inline weights says the graph pass converted them, not "converted 0 weights"', async () => {
    const r = await whittleInProcess('quantize', 'stream', '--float16', model, '-o', join(dir, 'f16_inline.onnx'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^no float32 weight in external data; the graph pass converted what is inline \(converted 1 initializers to float16 in 1 graph.*\): model file \d+\.\d+ MB -> \d+\.\d+ MB\n/);
    // nothing went to external data: no empty data file beside the model
    expect(existsSync(join(dir, 'f16_inline.onnx.data'))).toBe(false);
  });

  it('quantize stream still converts weights in external data', async () => {
    const src = writeSyntheticMlp(dir, [64, 32], { seed: 2, name: 'ext' });
    const out = join(dir, 'stream_ext.onnx');
    const r = await whittleInProcess('quantize', 'stream', src.modelPath, '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('quantized 1 weights');
  });
});
