/**
 * `whittle inspect` on a float16 export: the techniques that take only float32 weights (dynamic
 * and static int8, float16 conversion) are not said to reach its float16 weights.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import '@whittle/quantize';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-inspect-f16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inspect on float16 weights', () => {
  it('counts them for weight-only quantization and clustering, not for dynamic/static int8 or float16 conversion', async () => {
    const lenet = await readModelFile(fileURLToPath(new URL('../assets/lenet300100.onnx', import.meta.url)));
    const half = (await runPass('convert-float16', lenet, { keepIoTypes: false })).model;
    const p = join(dir, 'lenet_fp16.onnx');
    writeFileSync(p, writeModel(half));
    const r = await whittleInProcess('inspect', p);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/by technique: quantize weights\/cluster → 3 weights; quantize dynamic\/static\/float16 → 0 \(3 float16 already\); prune → 3/);
    // and the float16 conversion indeed finds nothing to do
    const again = await whittleInProcess('quantize', 'float16', p, '-o', join(dir, 'again.onnx'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/0 float32 initializers/);
  });
});
