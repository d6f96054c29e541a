/**
 * The q4 and q4f16 files of `whittle export-transformers` in onnxruntime-web with the WebGPU
 * provider, in headless Chromium on SwiftShader: the KV-cache loop run in the page gives the
 * logits onnxruntime-node gives (teacher-forced on the same tokens), and the files use only ops
 * that provider implements.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { WEBGPU_UNSUPPORTED_OPS, decoderIo, greedyGenerate, openOrtDecoder } from '@whittle/eval/node';
import { float16BitsToFloat32 } from '@whittle/tensor';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { writeTinyLm } from './fixtures/tiny_lm.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-webgpu-'));
let server: Server | undefined;
let context: BrowserContext | undefined;
afterAll(async () => {
  await context?.close().catch(() => {});
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.html': 'text/html' };

/** Serve /ort/* from onnxruntime-web's dist, /m/* from the model folder, / an empty page. */
function serve(folder: string): Promise<number> {
  const s = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x').pathname;
    const [root, rest] = url.startsWith('/ort/') ? [ORT_DIST, url.slice(5)] : url.startsWith('/m/') ? [folder, url.slice(3)] : [undefined, ''];
    const file = root ? normalize(join(root, rest)) : undefined;
    if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>ort webgpu</title>');
    if (!file || !file.startsWith(root!) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  server = s;
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as { port: number }).port)));
}

/**
 * In the page (plain JS, not transformed by vitest): the KV-cache loop, last-row logits of every
 * call; a float16 model is not run on an adapter without shader-f16 (onnxruntime-web refuses it).
 */
const PAGE_LOOP = `async ({ file, prompt, steps, needsF16 }) => {
  const describe = (a) => [a?.info?.vendor, a?.info?.architecture, a?.info?.description].filter(Boolean).join(' ');
  const ort = await import('/ort/ort.webgpu.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  const adapter = await navigator.gpu.requestAdapter();
  const f16 = !!adapter?.features.has('shader-f16');
  if (needsF16 && !f16) return { adapter: describe(adapter), f16, logits: [] };
  const session = await ort.InferenceSession.create(file, { executionProviders: ['webgpu'] });
  const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
  let past = {};
  for (const name of session.inputNames) {
    if (!name.startsWith('past_key_values.')) continue;
    const m = meta.get(name);
    past[name] = new ort.Tensor(m.type, m.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, m.shape[1], 0, m.shape[3]]);
  }
  const out = [];
  let done = 0;
  for (const ids of [prompt, ...steps.map((t) => [t])]) {
    const n = ids.length;
    const r = await session.run({
      ...past,
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(done + n).fill(1n), [1, done + n]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, k) => BigInt(done + k)), [1, n]),
    });
    const v = r.logits.dims[2];
    out.push({ type: r.logits.type, data: Array.from(r.logits.data).slice((n - 1) * v) });
    past = {};
    for (const k of Object.keys(r)) if (k.startsWith('present.')) past[k.replace('present.', 'past_key_values.')] = r[k];
    done += n;
  }
  await session.release();
  return { adapter: describe(adapter), f16, logits: out };
}`;

// onnxruntime-web's WebGPU build compiles its wasm and every shader on SwiftShader's CPU JIT:
// about a minute on a loaded 2-core machine, beyond the unit-test budget, so it runs on request
// (WHITTLE_WEBGPU_TESTS=1) and needs Debian's chromium
describe.runIf(process.env.WHITTLE_WEBGPU_TESTS === '1')('export-transformers q4 / q4f16 in onnxruntime-web WebGPU (SwiftShader)', () => {
  it('logits equal onnxruntime-node within tolerance over a KV-cache loop; ops the WebGPU provider implements', async () => {
    const src = writeTinyLm(dir);
    const folder = join(dir, 'tiny');
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: folder, variants: 'q4,q4f16' });
    for (const v of r.variants) {
      expect(v.ops.filter((o) => WEBGPU_UNSUPPORTED_OPS.has(o.split(':').pop()!)), v.dtype).toEqual([]);
      expect(v.ops).toEqual(expect.arrayContaining(['com.microsoft:MatMulNBits', 'com.microsoft:GatherBlockQuantized']));
    }
    const port = await serve(folder);
    context = await chromium.launchPersistentContext(mkdtempSync(join(dir, 'profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'],
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(`http://127.0.0.1:${port}/`);
    const prompt = [3, 7, 11, 5, 9, 40, 2];
    for (const v of r.variants) {
      const node = await openOrtDecoder(join(folder, v.path));
      const g = await greedyGenerate(node, decoderIo(node, v.path), prompt, 3, { keepLogits: true });
      await node.release();
      const arg = { file: `/m/${v.path}`, prompt, steps: g.tokens.slice(0, 2), needsF16: v.dtype === 'q4f16' };
      const web = (await page.evaluate(`(${PAGE_LOOP})(${JSON.stringify(arg)})`)) as { adapter: string; f16: boolean; logits: { type: string; data: number[] }[] };
      expect(web.adapter.toLowerCase(), 'SwiftShader adapter').toMatch(/google|swiftshader/);
      if (arg.needsF16 && !web.f16) {
        // SwiftShader has no shader-f16: float16 models (q4f16, fp16) need a GPU that has it
        console.log(`q4f16 not run: the WebGPU adapter (${web.adapter}) lacks shader-f16`);
        continue;
      }
      expect(web.logits).toHaveLength(3);
      web.logits.forEach((l, k) => {
        const got = l.type === 'float16' ? l.data.map(float16BitsToFloat32) : l.data;
        const want = g.logits![k]!;
        const scale = Math.max(...Array.from(want, Math.abs));
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        // fp32 activations: within 1 % of the largest logit; float16 activations: 3 %
        expect(worst / scale, `${v.dtype} call ${k}`).toBeLessThan(v.dtype === 'q4' ? 0.01 : 0.03);
        const argmax = (a: ArrayLike<number>): number => Array.prototype.indexOf.call(a, Math.max(...Array.from(a)));
        expect(argmax(got), `${v.dtype} call ${k} argmax`).toBe(argmax(want));
      });
    }
    expect(requests.every((u) => u.startsWith(`http://127.0.0.1:${port}/`))).toBe(true);
  }, 120_000);
});
