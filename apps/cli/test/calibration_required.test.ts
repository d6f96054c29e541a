/**
 * Every pass that calibrates refuses to run without calibration data, or on an empty set, with a
 * CalibrationDataError naming the pass — never a silent fallback (AWQ to plain rounding, Wanda to
 * scores of zero norms) — and the command line says to give --data.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CalibrationDataError, runPass } from '@whittle/graph';
import { readModelFile } from '@whittle/onnx/node';
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import { whittleInProcess } from './in_process.js';

const lenet = fileURLToPath(new URL('../assets/lenet300100.onnx', import.meta.url));
const empty = (): AsyncIterable<never> => (async function* () {})();

describe('calibrating passes need calibration data', () => {
  it.each([
    ['quantize-awq', {}],
    ['gptq', {}],
    ['quantize-static', {}],
    ['smooth-quant', {}],
    ['prune-unstructured', { method: 'wanda', sparsity: 0.5 }],
    ['prune-sparsegpt', {}],
    ['prune-sensitivity', {}],
    ['lowrank', { activationAware: 'whiten' }],
  ] as const)('%s: none given, or an empty set, is a CalibrationDataError naming it', async (pass, options) => {
    const m = await readModelFile(lenet);
    const name = pass === 'prune-unstructured' ? 'wanda' : pass;
    await expect(runPass(pass, m, options as Record<string, unknown>, {})).rejects.toThrow(CalibrationDataError);
    await expect(runPass(pass, m, options as Record<string, unknown>, {})).rejects.toThrow(new RegExp(`^${name}: .*--data on the command line`));
    await expect(runPass(pass, m, options as Record<string, unknown>, { calibration: empty() })).rejects.toThrow(new RegExp(`^${name}: the calibration data is empty`));
  });

  it('the command line names --data', async () => {
    const out = join(tmpdir(), `whittle-no-data-${process.pid}.onnx`);
    const r = await whittleInProcess('quantize', 'gptq', lenet, '-o', out);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(r.stderr).toMatch(/gptq: needs calibration data \(ctx\.calibration; --data on the command line\): none was given/);
  });
});
