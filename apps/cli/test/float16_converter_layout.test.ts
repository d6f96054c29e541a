/**
 * A float16 model as onnxconverter-common writes it with `keep_io_types` (float32 inputs and
 * outputs through Casts appended after the nodes that read them, so the nodes are out of
 * topological order; onnxruntime sorts on load): `inspect` says the order was fixed on read, and
 * weight quantization, pruning and low-rank write sorted models onnxruntime runs, answering as
 * the same command run on the float32 model does. Before the read sorted nodes, every technique wrote a model its own
 * validation refused.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { float16ConverterLayout, torchvisionMobilenetV2 } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';
import { cosineSimilarity } from '@whittle/eval';

const dir = mkdtempSync(join(tmpdir(), 'whittle-fp16-layout-'));
const src = join(dir, 'mobilenet_fp16.onnx');
const ref = join(dir, 'mobilenet_fp32.onnx');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  const fp32 = torchvisionMobilenetV2({ seed: 3, width: 0.5, height: 32, widthPx: 32, classes: 10 });
  writeFileSync(ref, writeModel(fp32));
  writeFileSync(src, writeModel(float16ConverterLayout(fp32), { validate: false }));
});

async function outputs(path: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path);
  const rng = new Rng(5);
  const x = Float32Array.from({ length: 4 * 3 * 32 * 32 }, () => rng.normal());
  const r = await s.run({ input: new ort.Tensor('float32', x, [4, 3, 32, 32]) });
  return r.output!.data as Float32Array;
}

describe('a float16 model with its Casts out of topological order', () => {
  it('inspect says the nodes were sorted on read', async () => {
    const r = await whittleInProcess('inspect', src);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^node order: the file's nodes are not in topological order \(main graph\); sorted on read/m);
  });

  it.each([
    ['int8 weights', ['quantize', 'weights', '--bits', '8'], 1.8],
    ['magnitude pruning 50 %', ['prune', 'unstructured', '--sparsity', '0.5'], 1],
    ['low-rank conv', ['factorize', 'conv', '--rank-selection', 'budget', '--target-ratio', '0.6'], 1.3],
  ] as const)('%s writes a sorted model onnxruntime runs, answering as the same command on the float32 model does', async (_label, cmd, minRatio) => {
    const out = join(dir, `${cmd.join('_')}.onnx`);
    const r = await whittleInProcess(...cmd, src, '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(src).size / statSync(out).size).toBeGreaterThanOrEqual(minRatio);
    // the written order is topological: readers come after their producers
    await readModelFile(out, { onNodesSorted: () => expect.fail('the written model is out of order') });
    // the same technique on the float32 model (sorted, the path that always worked): the fp16
    // result answers the same within float16 rounding (measured ≥ 0.9988: magnitude ties fall
    // differently on float16-rounded weights)
    const out32 = join(dir, `${cmd.join('_')}_fp32.onnx`);
    expect((await whittleInProcess(...cmd, ref, '-o', out32)).code).toBe(0);
    expect(cosineSimilarity(await outputs(out32), await outputs(out))).toBeGreaterThanOrEqual(0.995);
  });
});
