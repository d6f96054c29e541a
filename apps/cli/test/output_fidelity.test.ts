/**
 * Every technique command compares the model it wrote with its input in onnxruntime-node on a few
 * samples (the first of --data, else made-up ones) and prints the worst output's cosine and top-1
 * agreement; answers that moved far get a warning on real data and a note on made-up data. The
 * numbers are checked against onnxruntime-node run here on the same samples.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { compareOutputs, loadMnist } from '@whittle/eval';
import { GraphBuilder } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { existsSync } from 'node:fs';
import { readModel } from '@whittle/onnx';
import { FIDELITY_SAMPLES, fidelityCheck, outputFidelity, refuseBroken } from '../src/output_fidelity.js';
import { writeOutput } from '../src/model_io.js';
import { CORPUS, corpusPath } from '@whittle/testing/corpus';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-fidelity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lenet = fileURLToPath(new URL('../assets/lenet300100.onnx', import.meta.url));

/** The cosine and top-1 agreement the line shows. */
function parse(stdout: string): { cosine: number; top1: number; samples: string } {
  const m = /outputs vs the input model in onnxruntime-node on (.+?): cosine ([\d.]+), top-1 agreement ([\d.]+) %/.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return { samples: m![1]!, cosine: Number(m![2]), top1: Number(m![3]) / 100 };
}

describe('output fidelity after a technique command', () => {
  it('8-bit weights on MNIST samples: the cosine onnxruntime-node gives on the first test samples, no warning', async () => {
    const out = join(dir, 'q8.onnx');
    const r = await whittleInProcess('quantize', 'weights', lenet, '-o', out, '--bits', '8', '--data', 'mnist');
    expect(r.code, r.stderr).toBe(0);
    const f = parse(r.stdout);
    expect(f.samples).toBe(`${FIDELITY_SAMPLES} samples of mnist`);
    // the same comparison by hand: the first test images of the CLI's MNIST split
    const { test } = await loadMnist();
    const x = new ort.Tensor('float32', test.images.subarray(0, FIDELITY_SAMPLES * 784), [FIDELITY_SAMPLES, 1, 28, 28]);
    const a = (await (await ort.InferenceSession.create(lenet)).run({ input: x })).logits!.data as Float32Array;
    const b = (await (await ort.InferenceSession.create(out)).run({ input: x })).logits!.data as Float32Array;
    const want = compareOutputs(a, b, { numClasses: 10 });
    expect(f.cosine).toBeCloseTo(want.cosine, 5);
    expect(f.top1).toBeCloseTo(want.top1Agreement!, 3);
    expect(f.cosine).toBeGreaterThan(0.999);
    expect(r.stderr).not.toMatch(/moved far/);
  });

  it('95 % unstructured sparsity without fine-tuning: a warning on real data, a note on made-up data; --json carries the numbers', async () => {
    const real = await whittleInProcess('prune', 'unstructured', lenet, '-o', join(dir, 's95.onnx'), '--sparsity', '0.95', '--data', 'mnist');
    expect(real.code, real.stderr).toBe(0);
    expect(parse(real.stdout).cosine).toBeLessThan(0.9);
    expect(real.stderr).toMatch(/^warning: the output model's answers moved far from the input model's \('logits': cosine 0\.\d{3} on 4 samples of mnist\); fine-tune/m);

    const made = await whittleInProcess('prune', 'unstructured', lenet, '-o', join(dir, 's95b.onnx'), '--sparsity', '0.95', '--json');
    expect(made.code, made.stderr).toBe(0);
    const report = JSON.parse(made.stdout) as { fidelity: { samples: string; madeUp: boolean; worstCosine: number; outputs: { output: string; cosine: number; top1: number }[] } };
    expect(report.fidelity).toMatchObject({ samples: `${FIDELITY_SAMPLES} made-up samples`, madeUp: true });
    expect(report.fidelity.outputs.map((o) => o.output)).toEqual(['logits']);
    expect(report.fidelity.worstCosine).toBeLessThan(0.9);
    expect(made.stderr).toMatch(/^note: the output model's answers moved far .* made-up inputs may not show how it does on real ones/m);
    expect(made.stderr).not.toMatch(/^warning: the output model's answers/m);
  });

  it('an image-mask output [N, 1, H, W]: no top-1 agreement along image columns, neither after a command nor in evaluate, whose Pareto front trades size against cosine', async () => {
    // x [N, 3, 16, 16] → Conv 3→8 → Relu → Conv 8→1 → Sigmoid: a tiny segmentation head
    const rng = new Rng(3);
    const w = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * 0.3);
    const b = new GraphBuilder('mask');
    const x = b.input('x', 'float32', ['N', 3, 16, 16]);
    let h = b.node('Conv', [x, b.initializer('w1', tensor(w(8 * 3 * 9), [8, 3, 3, 3]))], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, { name: 'c1' });
    h = b.node('Relu', [h]);
    h = b.node('Conv', [h, b.initializer('w2', tensor(w(8 * 9), [1, 8, 3, 3]))], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, { name: 'c2' });
    b.node('Sigmoid', [h], {}, { outputNames: ['mask'] });
    b.output('mask', 'float32', ['N', 1, 16, 16]);
    const model = join(dir, 'mask.onnx');
    writeFileSync(model, writeModel(b.model()));
    const q = join(dir, 'mask_q8.onnx');
    const r = await whittleInProcess('quantize', 'weights', model, '-o', q, '--bits', '8', '--json');
    expect(r.code, r.stderr).toBe(0);
    const f = (JSON.parse(r.stdout) as { fidelity: { outputs: { output: string; cosine: number; top1?: number }[] } }).fidelity;
    expect(f.outputs).toHaveLength(1);
    expect(f.outputs[0]!.top1).toBeUndefined();
    expect(f.outputs[0]!.cosine).toBeGreaterThan(0.99);
    const e = await whittleInProcess('evaluate', model, q, '--data', 'synthetic:8', '--task', 'fidelity', '--no-latency', '--json');
    expect(e.code, e.stderr).toBe(0);
    const rep = JSON.parse(e.stdout) as { paretoAxis?: string; rows: { fidelity?: { top1Agreement?: number; cosine: number } }[] };
    expect(rep.rows[1]!.fidelity!.top1Agreement).toBeUndefined();
    expect(rep.paretoAxis).toBe('output cosine');
  });

  it('a recurrent state handed back to the next step (Silero VAD v5 stateN [2, N, 128]) and a single score: cosine only, no top-1 along hidden units', async () => {
    const vad = corpusPath(CORPUS.find((m) => m.id === 'vad-v5')!);
    const q = join(dir, 'vad_q8.onnx');
    const r = await whittleInProcess('quantize', 'weights', vad, '-o', q, '--bits', '8', '--json');
    expect(r.code, r.stderr).toBe(0);
    const f = (JSON.parse(r.stdout) as { fidelity: { outputs: { output: string; cosine: number; top1?: number }[] } }).fidelity;
    expect(f.outputs.map((o) => o.output).sort()).toEqual(['output', 'stateN']);
    for (const o of f.outputs) {
      expect(o.top1, o.output).toBeUndefined();
      expect(o.cosine).toBeGreaterThan(0.5);
    }
  });

  it('an output onnxruntime-node loads but cannot run where the input runs is refused before it is written', async () => {
    const conv = (biasSize: number): Uint8Array => {
      const b = new GraphBuilder('conv');
      const x = b.input('x', 'float32', ['N', 1, 4, 4]);
      b.node('Conv', [x, b.initializer('w', tensor(new Float32Array(2 * 9).fill(0.1), [2, 1, 3, 3])), b.initializer('b', tensor(new Float32Array(biasSize), [biasSize]))], {}, { outputNames: ['y'] });
      b.output('y', 'float32', ['N', 2, 2, 2]);
      return writeModel(b.model());
    };
    const input = join(dir, 'conv.onnx');
    writeFileSync(input, conv(2));
    // a bias longer than the output channels: loads, fails to run
    const f = await outputFidelity(readModel(conv(2)), input, conv(3), undefined);
    expect(f).toMatchObject({ broken: expect.stringMatching(/bias/), samples: `${FIDELITY_SAMPLES} made-up samples` });
    await expect(refuseBroken(f, 'the output model')).rejects.toThrow(/^onnxruntime-node refuses to run the output model on 4 made-up samples the input model runs on: .*bias/);
    // through the writer: refused, and nothing was ever written
    const broken = join(dir, 'conv_broken.onnx');
    const check = fidelityCheck(readModel(conv(2)), input, undefined);
    await expect(writeOutput(readModel(conv(3)), broken, { input, verify: check.verify })).rejects.toThrow(/refuses to run the output model \(not written to .*conv_broken\.onnx\) on 4 made-up samples/);
    expect(existsSync(broken)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('conv_broken'))).toEqual([]);
    expect(existsSync(input)).toBe(true);
    // a sound output passes the same hook and carries its numbers
    const ok = fidelityCheck(readModel(conv(2)), input, undefined);
    await writeOutput(readModel(conv(2)), join(dir, 'conv_ok.onnx'), { verify: ok.verify });
    expect(ok.result()).toMatchObject({ worstCosine: 1 });
  });
});
