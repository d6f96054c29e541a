import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readModelFile } from '@whittle/onnx/node';
import { mnistData, ZOO_DIR, cacheName } from '@whittle/testing/zoo';
import { whittleInProcess } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'whittle-source.mjs');
const zoo = join(ZOO_DIR, cacheName('lenet300100'));
const dir = mkdtempSync(join(tmpdir(), 'whittle-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function whittle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

type Run = { code: number; stdout: string; stderr: string };

// The two int4 models the evaluate test compares, each written once by whichever test needs it
// first: MatMulNBits through the bin (its stderr carries the target's choices), QDQ in this process
// (the same program, without seconds of start-up).
let q4Run: Promise<Run> | undefined;
const q4 = (): Promise<Run> => (q4Run ??= Promise.resolve().then(() => whittle('quantize', 'weights', zoo, '--target', 'ort-cpu', '-o', join(dir, 'q4.onnx'))));
let qdq4Run: Promise<Run> | undefined;
const qdq4 = (): Promise<Run> => (qdq4Run ??= whittleInProcess('quantize', 'weights', zoo, '--bits', '4', '--format', 'qdq', '--target', 'ort-cpu', '-o', join(dir, 'qdq4.onnx')));

async function top1(path: string, x: Float32Array, n: number): Promise<number[]> {
  const s = await ort.InferenceSession.create(path);
  const out = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [n, 1, 28, 28]) }))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return Array.from({ length: n }, (_, i) => {
    let b = 0;
    for (let k = 1; k < 10; k++) if (out[i * 10 + k]! > out[i * 10 + b]!) b = k;
    return b;
  });
}

describe('--target and speed vs the original (the bin once, then in this process)', () => {
  it('quantize weights --target ort-cpu picks MatMulNBits with accuracy_level 4; the model agrees with the original in onnxruntime', async () => {
    const out = join(dir, 'q4.onnx');
    const r = await q4();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/target ort-cpu: format = "matmulnbits"/);
    expect(r.stderr).toMatch(/target ort-cpu: accuracyLevel = 4/);
    const m = await readModelFile(out);
    const nbits = m.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits.length).toBe(3);
    for (const n of nbits) expect(n.attributes.get('accuracy_level')).toEqual({ type: 'int', value: 4 });
    const { test } = await mnistData();
    const n = 200;
    const x = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) x.set(test.images.subarray(i * 10 * 784, (i * 10 + 1) * 784), i * 784);
    const a = await top1(zoo, x, n);
    const b = await top1(out, x, n);
    expect(a.filter((v, i) => v === b[i]).length / n).toBeGreaterThanOrEqual(0.97);
  });

  it('warns when the requested format runs slower than float32 on the target; rejects an unknown target', async () => {
    const d = await whittleInProcess('quantize', 'dynamic', zoo, '--target', 'ort-webgpu', '-o', join(dir, 'd.onnx'));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/warning: target ort-webgpu: .*MatMulInteger.*WebGPU/);
    const q = await qdq4();
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).not.toMatch(/format = /);
    expect(q.stderr).toMatch(/warning: target ort-cpu: 4-bit DequantizeLinear is not fused/);
    const f = await whittleInProcess('quantize', 'float16', zoo, '--target', 'ort-cpu', '-o', join(dir, 'f16.onnx'));
    expect(f.stderr).toMatch(/warning: target ort-cpu: .*slower than float32/);
    const bad = await whittleInProcess('quantize', 'weights', zoo, '--target', 'tpu', '-o', join(dir, 'x.onnx'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--target must be one of ort-cpu, ort-wasm, ort-webgpu, transformers\.js, got 'tpu'/);
  });

  it('evaluate: speed of each variant vs the first at batch 1 and 8 (fields are numbers; timings not asserted)', async () => {
    for (const made of [await q4(), await qdq4()]) expect(made.code, made.stderr).toBe(0);
    const r = await whittleInProcess('evaluate', zoo, join(dir, 'q4.onnx'), join(dir, 'qdq4.onnx'), '--data', 'mnist', '--json');
    expect(r.code, r.stderr).toBe(0);
    type Vs = { baseline: string; batch1: { speedup: number; medianMs: number }; batchN?: { batchSize: number; speedup: number }; slower: boolean };
    const rep = JSON.parse(r.stdout) as { rows: { name: string; latency?: { vsBaseline?: Vs } }[] };
    expect(rep.rows).toHaveLength(3);
    expect(rep.rows[0]!.latency!.vsBaseline!.batch1.speedup).toBe(1);
    for (const row of rep.rows) {
      const v = row.latency!.vsBaseline!;
      expect(v.baseline).toBe(rep.rows[0]!.name);
      expect(Number.isFinite(v.batch1.speedup) && v.batch1.speedup > 0).toBe(true);
      expect(Number.isFinite(v.batch1.medianMs)).toBe(true);
      expect(v.batchN!.batchSize).toBe(8);
      expect(Number.isFinite(v.batchN!.speedup)).toBe(true);
      expect(typeof v.slower).toBe('boolean');
    }
  }, 120_000);
});
