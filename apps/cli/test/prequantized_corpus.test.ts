/**
 * The command line on a third-party transformer its publisher already quantized (Moonshine tiny's
 * encoder from @moonshine-ai/moonshine-js, dynamic int8 as Transformers.js ships it): what it
 * cannot compress it refuses saying why, and calibration on synthetic data too short for the
 * model's strided convolutions says how to size the dims.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PREQUANTIZED_CORPUS, corpusPath } from '@whittle/testing/corpus';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'whittle-source.mjs');
const dir = mkdtempSync(join(tmpdir(), 'whittle-prequantized-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function whittle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const encoder = corpusPath(PREQUANTIZED_CORPUS.find((m) => m.id === 'moonshine-encoder')!);

describe('an already-quantized transformer (Moonshine tiny encoder)', () => {
  it('int4 weight-only is refused, naming the 36 MatMulInteger layers it does not quantize again', () => {
    const out = join(dir, 'int4.onnx');
    const r = whittle('quantize', 'weights', encoder, '--bits', '4', '--format', 'matmulnbits', '-o', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/nothing compressed: .*the model is already quantized: 36 layer\(s\) hold integer weights \(36 MatMulInteger\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('static int8 on synthetic:N says how to size the dims; with them, calibration runs', () => {
    // 512 synthetic samples leave the third strided Conv nothing to convolve
    const short = whittle('quantize', 'static', encoder, '--data', 'synthetic:2', '-o', join(dir, 'static.onnx'));
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/could not run the model on calibration batch 0 \(input_values \[2, 512\]\)/);
    expect(short.stderr).toContain("--data synthetic:2 made up the sizes of the dynamic dims (num_samples; see the 'data:' line)");
    expect(short.stderr).toContain("'synthetic: { count: 32, dims: { num_samples: <size> } }'");
    // the spec the hint describes: calibration runs through; the int8 copies of the three float
    // Conv weights are then no smaller than the publisher's uint8 ones, which is refused as such
    const spec = join(dir, 'audio.yaml');
    writeFileSync(spec, 'kind: synthetic\nsynthetic: { count: 2, dims: { num_samples: 4000 } }\n');
    const sized = whittle('quantize', 'static', encoder, '--data', spec, '-o', join(dir, 'static.onnx'));
    expect(sized.code).toBe(1);
    expect(sized.stderr).not.toMatch(/could not run the model/);
    expect(sized.stderr).toMatch(/NoCompressionError: nothing compressed: the stored weights grew .*already quantized: 36 layer/);
  });
});
