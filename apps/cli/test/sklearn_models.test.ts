/**
 * The command line on tabular models as skl2onnx writes them (ai.onnx.ml Scaler, ZipMap,
 * ArrayFeatureExtractor, LinearClassifier, TreeEnsembleClassifier beside MatMul layers): every
 * output loads and runs in onnxruntime-node and agrees with the original on rows of the data set
 * the weights were fitted on; models whose learned parameters are ai.onnx.ml attributes are
 * refused with why. Run in-process (whittleInProcess) to stay fast.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { writeModel } from '@whittle/onnx';
import { sklearnDataset, sklearnDecisionTree, sklearnLogisticRegression, sklearnMlpClassifier, sklearnMlpRegressor } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';

const F = 8;
const HIDDEN = [64, 32];
const dir = mkdtempSync(join(tmpdir(), 'whittle-sklearn-'));
const at = (f: string): string => join(dir, f);
// rows of the fitting distribution the models never saw (another row seed)
const rows = sklearnDataset(1, 300, F, 3, 4242);

beforeAll(() => {
  writeFileSync(at('mlp.onnx'), writeModel(sklearnMlpClassifier({ seed: 1, hidden: HIDDEN })));
  writeFileSync(at('mlp_tensor.onnx'), writeModel(sklearnMlpClassifier({ seed: 1, hidden: HIDDEN, zipmap: false })));
  writeFileSync(at('reg.onnx'), writeModel(sklearnMlpRegressor({ seed: 1, hidden: HIDDEN })));
  writeFileSync(at('lr.onnx'), writeModel(sklearnLogisticRegression({ seed: 1 })));
  writeFileSync(at('tree.onnx'), writeModel(sklearnDecisionTree({ seed: 1 })));
  const lines = [[...Array.from({ length: F }, (_, j) => `f${j}`), 'label'].join(',')];
  for (let i = 0; i < rows.n; i++) lines.push([...rows.x.subarray(i * F, (i + 1) * F), rows.y[i]].join(','));
  writeFileSync(at('rows.csv'), `${lines.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The tensor outputs of a model on the rows (onnxruntime-node cannot fetch ZipMap's sequence of maps). */
async function run(file: string): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(readFileSync(at(file)));
  const fetch = s.outputMetadata.filter((m) => m.isTensor).map((m) => m.name);
  const r = await s.run({ float_input: new ort.Tensor('float32', rows.x, [rows.n, F]) }, fetch);
  await s.release();
  return r;
}

/** Fraction of rows whose label the two runs agree on. */
function labelAgreement(a: ort.Tensor, b: ort.Tensor): number {
  let same = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] === b.data[i]) same++;
  return same / a.data.length;
}

function maxAbs(a: ort.Tensor, b: ort.Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  return m;
}

async function compress(args: string[], out: string): Promise<void> {
  const r = await whittleInProcess(...args, '-o', at(out));
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
}

describe('skl2onnx models on the command line', () => {
  it('the fixtures are non-trivial: the classifiers get most rows right', async () => {
    const ref = await run('mlp.onnx');
    let right = 0;
    for (let i = 0; i < rows.n; i++) if (Number(ref.output_label!.data[i]) === rows.y[i]) right++;
    expect(right / rows.n).toBeGreaterThan(0.85);
    expect(new Set(Array.from(ref.output_label!.data as BigInt64Array)).size).toBe(3);
  });

  it('quantize dynamic, static (CSV and synthetic data), float16 and prune keep the ZipMap classifier agreeing', async () => {
    const ref = await run('mlp.onnx');
    await compress(['quantize', 'dynamic', at('mlp.onnx')], 'mlp.dyn.onnx');
    await compress(['quantize', 'static', at('mlp.onnx'), '--data', at('rows.csv')], 'mlp.st.onnx');
    await compress(['quantize', 'static', at('mlp.onnx'), '--data', 'synthetic:32'], 'mlp.syn.onnx');
    await compress(['quantize', 'float16', at('mlp.onnx')], 'mlp.f16.onnx');
    await compress(['prune', 'unstructured', at('mlp.onnx'), '--sparsity', '0.5'], 'mlp.prune.onnx');
    // measured: 100, 100, 100, 100, 97.7 % of 300 rows
    const floors: Record<string, number> = { 'mlp.dyn.onnx': 0.97, 'mlp.st.onnx': 0.97, 'mlp.syn.onnx': 0.95, 'mlp.f16.onnx': 0.99, 'mlp.prune.onnx': 0.9 };
    for (const [file, floor] of Object.entries(floors)) expect(labelAgreement(ref.output_label!, (await run(file)).output_label!), file).toBeGreaterThanOrEqual(floor);
  }, 60_000);

  it('probabilities as a tensor (zipmap=False) and the regressor stay close', async () => {
    const ref = await run('mlp_tensor.onnx');
    await compress(['quantize', 'static', at('mlp_tensor.onnx'), '--data', at('rows.csv')], 'mlp_tensor.st.onnx');
    await compress(['quantize', 'float16', at('mlp_tensor.onnx')], 'mlp_tensor.f16.onnx');
    const st = await run('mlp_tensor.st.onnx');
    const f16 = await run('mlp_tensor.f16.onnx');
    // measured max |Δp|: static 0.040, float16 0.0007
    expect(maxAbs(ref.output_probability!, st.output_probability!)).toBeLessThan(0.1);
    expect(maxAbs(ref.output_probability!, f16.output_probability!)).toBeLessThan(0.005);
    const reg = await run('reg.onnx');
    await compress(['quantize', 'dynamic', at('reg.onnx')], 'reg.dyn.onnx');
    const dyn = await run('reg.dyn.onnx');
    let se = 0;
    let ss = 0;
    for (let i = 0; i < rows.n; i++) {
      se += ((reg.variable!.data[i] as number) - (dyn.variable!.data[i] as number)) ** 2;
      ss += (reg.variable!.data[i] as number) ** 2;
    }
    expect(Math.sqrt(se / ss)).toBeLessThan(0.05); // measured 0.0135
  }, 60_000);

  it('calibrated analyses run past the ZipMap head: pruning sensitivity on the labels, activation-aware low rank, mixed precision', async () => {
    const r = await whittleInProcess('prune', 'sensitivity', at('mlp.onnx'), '--data', at('rows.csv'), '-o', at('unused.onnx'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const metrics = [...r.stdout.matchAll(/"metric": ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(metrics.length).toBe(3 * 6);
    // labels compared as labels: pruning a layer to 95 % changes some (measured 0.76 at worst)
    expect(Math.min(...metrics)).toBeLessThan(0.95);
    const ref = await run('mlp.onnx');
    await compress(['factorize', 'linear', at('mlp.onnx'), '--data', at('rows.csv'), '--activation-aware', 'whiten'], 'mlp.aware.onnx');
    expect(labelAgreement(ref.output_label!, (await run('mlp.aware.onnx')).output_label!)).toBeGreaterThan(0.93); // measured 0.973
    // mixed precision measures each layer's effect on the tensor outputs (the labels), not on ZipMap's
    await compress(['quantize', 'mixed', at('mlp.onnx'), '--data', at('rows.csv')], 'mlp.mixed.onnx');
    expect(labelAgreement(ref.output_label!, (await run('mlp.mixed.onnx')).output_label!)).toBeGreaterThan(0.97); // measured 1.0
  }, 60_000);

  it('inspect counts the MatMul work behind the Scaler', async () => {
    const r = await whittleInProcess('inspect', at('mlp.onnx'));
    expect(r.code).toBe(0);
    const macs = F * HIDDEN[0]! + HIDDEN[0]! * HIDDEN[1]! + HIDDEN[1]! * 3;
    expect(r.stdout).toContain(`(${macs} multiply-adds) per sample`);
    expect((await whittleInProcess('inspect', at('tree.onnx'))).stdout).toMatch(/ai\.onnx\.ml attributes .*1 TreeEnsembleClassifier \(\d+ floats\)/);
  });

  it('evaluate reads the label output of a ZipMap classifier and refuses its sequence output', async () => {
    // a pruned variant: its answers do not depend on the batch (dynamic quantization's do)
    await compress(['prune', 'unstructured', at('mlp.onnx'), '--sparsity', '0.6'], 'mlp.eval.onnx');
    const r = await whittleInProcess('evaluate', at('mlp.onnx'), at('mlp.eval.onnx'), '--data', at('rows.csv'), '--no-latency', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { rows: { name: string; accuracy?: number; fidelity?: { top1Agreement?: number } }[] };
    const [base, pruned] = report.rows;
    // the baseline's accuracy is what onnxruntime's labels give on the rows
    const ref = await run('mlp.onnx');
    let right = 0;
    for (let i = 0; i < rows.n; i++) if (Number(ref.output_label!.data[i]) === rows.y[i]) right++;
    expect(base!.accuracy).toBeCloseTo(right / rows.n, 6);
    const agreement = labelAgreement(ref.output_label!, (await run('mlp.eval.onnx')).output_label!);
    expect(agreement).toBeLessThan(1);
    expect(pruned!.fidelity!.top1Agreement).toBeCloseTo(agreement, 6);
    const bad = await whittleInProcess('evaluate', at('mlp.onnx'), '--data', at('rows.csv'), '--no-latency', '--output', 'output_probability');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'output_probability' is a sequence or map.*zipmap/);
  }, 60_000);

  it('fine-tune runs the Scaler and ArrayFeatureExtractor in the interpreter; a ZipMap model is refused, as student or teacher', async () => {
    const tuned = await whittleInProcess('fine-tune', at('mlp_tensor.onnx'), '--data', at('rows.csv'), '--loss-output', 'output_probability', '--epochs', '1', '--lr', '1e-5', '-o', at('mlp_tensor.ft.onnx'));
    expect(tuned.code, tuned.stderr).toBe(0);
    // output_probability is the Softmax's: the loss is −log p[label], not a softmax of probabilities
    expect(tuned.stdout).toContain("ce loss on 'output_probability', Softmax probabilities read as log p");
    const p0 = (await run('mlp_tensor.onnx')).output_probability!.data as Float32Array;
    let ce = 0, doubled = 0;
    for (let i = 0; i < rows.n; i++) {
      const row = Array.from(p0.subarray(i * 3, i * 3 + 3));
      ce -= Math.log(row[rows.y[i]!]!) / rows.n;
      doubled -= (row[rows.y[i]!]! - Math.log(row.reduce((a, v) => a + Math.exp(v), 0))) / rows.n;
    }
    // at a tiny learning rate the first epoch's mean loss is the model's cross-entropy on the rows
    const first = Number(/loss (\d+\.\d+) \(mean over the one epoch\)/.exec(tuned.stdout)?.[1]);
    expect(Math.abs(first - ce), `reported ${first}, cross-entropy ${ce}, softmax of probabilities ${doubled}`).toBeLessThan(0.1 * Math.abs(doubled - ce));
    const ft = await run('mlp_tensor.ft.onnx');
    expect(labelAgreement((await run('mlp_tensor.onnx')).output_label!, ft.output_label!)).toBeGreaterThan(0.9);
    // with ZipMap the probabilities are no tensor to train on: refused, saying what to convert instead
    const zip = await whittleInProcess('fine-tune', at('mlp.onnx'), '--data', at('rows.csv'), '--epochs', '1', '-o', at('mlp.ft.onnx'));
    expect(zip.code).toBe(1);
    expect(zip.stderr).toMatch(/ai\.onnx\.ml\.ZipMap \(its output is a sequence of maps.*'zipmap': False/);
    // a ZipMap teacher has no float output onnxruntime-node can return to distill from
    const teacher = await whittleInProcess('distill', at('mlp_tensor.onnx'), '--teacher', at('mlp.onnx'), '--data', at('rows.csv'), '--epochs', '1', '-o', at('mlp.distill.onnx'));
    expect(teacher.code).toBe(1);
    expect(teacher.stderr).toMatch(/no float tensor output to distill from .*output_probability is a sequence or map/);
  }, 60_000);

  it('models whose parameters are ai.onnx.ml attributes are refused with why, nothing written', async () => {
    for (const [file, args, op] of [
      ['lr.onnx', ['quantize', 'dynamic'], 'LinearClassifier'],
      ['lr.onnx', ['quantize', 'float16'], 'LinearClassifier'],
      ['tree.onnx', ['prune', 'unstructured'], 'TreeEnsembleClassifier'],
    ] as const) {
      const r = await whittleInProcess(...args, at(file), '-o', at(`refused.${file}`));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`NoCompressionError: .*1 ${op} \\(\\d+ floats\\) holds learned parameters as ai\\.onnx\\.ml node attributes`));
    }
  });
});
