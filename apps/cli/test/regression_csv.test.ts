/**
 * A CSV whose target column holds real numbers is regression data: evaluate measures regression
 * errors by default and the training passes fit the float targets (mse) on the model's output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { sklearnDataset, sklearnMlpRegressor } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-regression-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('regression targets from a CSV (skl2onnx MLPRegressor)', () => {
  it('evaluate defaults to regression (R² of the fitted model on its own data) and fine-tune lowers the mse', async () => {
    const model = join(dir, 'regressor.onnx');
    writeFileSync(model, writeModel(sklearnMlpRegressor({ seed: 1 })));
    const ds = sklearnDataset(1, 96, 8, 3, 5);
    const rows = ['f0,f1,f2,f3,f4,f5,f6,f7,target'];
    for (let i = 0; i < ds.n; i++) rows.push([...ds.x.subarray(i * 8, i * 8 + 8), ds.target[i]].join(','));
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, rows.join('\n'));

    const report = join(dir, 'report');
    const ev = await whittleInProcess('evaluate', model, '--data', csv, '--no-latency', '--report', report);
    expect(ev.code, ev.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8')) as { task: { task: string }; rows: { metrics?: Record<string, number> }[] };
    expect(json.task.task).toBe('regression');
    const m = json.rows[0]!.metrics!;
    // the regressor was fitted on this distribution: it explains most of the variance
    expect(m['r2']).toBeGreaterThan(0.5);
    expect(m['rmse']).toBeCloseTo(Math.sqrt(m['mse']!), 5);

    const out = join(dir, 'tuned.onnx');
    const ft = await whittleInProcess('fine-tune', model, '--data', csv, '--epochs', '3', '--json', '-o', out);
    expect(ft.code, ft.stderr).toBe(0);
    const r = JSON.parse(ft.stdout.slice(ft.stdout.indexOf('{'))) as { steps: { report: { details: Record<string, unknown> } }[] };
    const details = r.steps[0]!.report.details;
    expect(details['loss']).toBe('mse');
    const losses = details['losses'] as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]!);
  });
});

describe('a single-score binary classifier (one sigmoid per row) on 0/1 labels', () => {
  it('evaluate scores class 1 above 0.5, as the labels are counted here', async () => {
    // logistic regression: sigmoid(x · w + b) [N, 1]
    const b = new GraphBuilder('logistic');
    const x = b.input('x', 'float32', ['N', 2]);
    const z = b.node('Add', [b.node('MatMul', [x, b.initializer('w', tensor(Float32Array.from([1.5, -2]), [2, 1]))]), b.initializer('b', tensor(Float32Array.from([0.25]), [1]))]);
    b.output(b.node('Sigmoid', [z]), 'float32', ['N', 1]);
    const model = join(dir, 'logistic.onnx');
    writeFileSync(model, writeModel(b.model()));
    const rows = ['x0,x1,label'];
    let right = 0;
    for (let i = 0; i < 40; i++) {
      const [x0, x1] = [Math.sin(i * 1.3) * 2, Math.cos(i * 0.7) * 2];
      const label = i % 3 === 0 ? 1 - Number(1.5 * x0 - 2 * x1 + 0.25 > 0) : Number(1.5 * x0 - 2 * x1 + 0.25 > 0);
      if (Number(1.5 * x0 - 2 * x1 + 0.25 > 0) === label) right++;
      rows.push(`${x0},${x1},${label}`);
    }
    writeFileSync(join(dir, 'binary.csv'), rows.join('\n'));
    const ev = await whittleInProcess('evaluate', model, '--data', join(dir, 'binary.csv'), '--no-latency', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    const rep = JSON.parse(ev.stdout) as { rows: { accuracy?: number; metrics?: Record<string, number> }[] };
    expect(rep.rows[0]!.accuracy).toBeCloseTo(right / 40, 10);
    // two classes: no top-k column (it would always be 1)
    expect(rep.rows[0]!.metrics?.['top2']).toBeUndefined();
  });
});

