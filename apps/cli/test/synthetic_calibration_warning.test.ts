/**
 * Calibrating on `--data synthetic` warns that the statistics come from made-up inputs; passes
 * that read no calibration data, and calibration on real samples, do not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '@whittle/eval';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-synwarn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const WARNING = 'warning: calibrating on synthetic inputs';

describe('synthetic calibration warning', () => {
  const { modelPath } = writeSyntheticMlp(dir, [16, 32, 8], { name: 'mlp' });
  const real = join(dir, 'rows.npy');
  writeFileSync(real, encodeNpy({ data: Float32Array.from({ length: 24 * 16 }, (_, i) => Math.sin(i) * 3), shape: [24, 16], dtype: 'float32' }));

  it('static int8 on synthetic data warns once; on real samples it does not', async () => {
    const syn = await whittleInProcess('quantize', 'static', modelPath, '--data', 'synthetic:8', '-o', join(dir, 'syn.onnx'));
    expect(syn.code, syn.stderr).toBe(0);
    expect(syn.stderr.split(WARNING).length - 1).toBe(1);
    const ok = await whittleInProcess('quantize', 'static', modelPath, '--data', real, '-o', join(dir, 'real.onnx'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain(WARNING);
  });

  it('a pass that reads no calibration data does not warn', async () => {
    const r = await whittleInProcess('quantize', 'dynamic', modelPath, '--data', 'synthetic:8', '-o', join(dir, 'dyn.onnx'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(WARNING);
  });
});
