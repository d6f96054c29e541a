/**
 * A CSV whose target column holds real numbers is regression data: evaluate measures regression
 * errors by default and the training passes fit the float targets (mse) on the model's output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeModel } from '@whittle/onnx';
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
