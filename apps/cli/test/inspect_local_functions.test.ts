/**
 * `whittle inspect` on a torch dynamo export says its local functions were inlined on read, and
 * counts the MatMuls and weights inside them and their work through the exporter's rank-guarded
 * transposes; `--json` carries the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeModel } from '@whittle/onnx';
import { torchDynamoMlp } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-inspect-fn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inspect: a model made of local functions', () => {
  it('says how many calls were inlined and counts the layers inside them', async () => {
    const path = join(dir, 'dynamo.onnx');
    writeFileSync(path, writeModel(torchDynamoMlp({ seed: 2 })));
    const r = await whittleInProcess('inspect', path);
    expect(r.code, r.stderr).toBe(0);
    // 5 module calls and the torch_lib calls inside them: fc1 and fc2 aten_t (+ its Rank) and aten_addmm, GELU, LayerNorm, head aten_t (+ Rank) and aten_mm
    expect(r.stdout).toMatch(/^local functions: 16 call\(s\) inlined on read, as onnxruntime does$/m);
    expect(r.stdout).toMatch(/ops: .*Gemm 2.*MatMul 1/);
    // each weight reaches its Gemm/MatMul through If(Equal(Rank(w), 2)) → Transpose: 64·256 + 256·256 + 256·16 multiply-adds
    expect(r.stdout).toMatch(/~172544 FLOPs \(86016 multiply-adds\) per sample/);
    expect(r.stdout).not.toMatch(/\(Shape\): \d+ parameters/);
    expect(r.stdout).toMatch(/by technique: quantize weights\/dynamic\/cluster\/float16 → 3 weights; prune → 3; factorize → 3 linear/);
    const j = JSON.parse((await whittleInProcess('inspect', path, '--json')).stdout) as { localFunctions: { inlined: number; kept: unknown[] } };
    expect(j.localFunctions).toEqual({ inlined: 16, kept: [] });
  });
});
