/**
 * The q4, q4f16 and q2 files `whittle export-transformers` writes for the zoo LM, in onnxruntime-web
 * with the WebGPU provider in headless Chromium on SwiftShader: q4 uses only ops that provider
 * implements, onnxruntime-web places every node computing on floats on WebGPU (its verbose
 * session log) and runs the MatMulNBits / GatherBlockQuantized programs there, and the KV-cache
 * loop in the page gives the logits onnxruntime-node gives on the same tokens (q2's 2-bit MatMulNBits
 * too). q4f16 needs the
 * adapter's shader-f16 feature: with it its logits are checked the same way; without it (SwiftShader)
 * onnxruntime-web must refuse to run it, and the test says so. So the same page script also runs
 * in Node on Dawn with Mesa's lavapipe, which has shader-f16: there q4f16 (and q4) must run on
 * WebGPU, MatMulNBits and GatherBlockQuantized in float16 programs, with onnxruntime-node's logits.
 *
 * Runs where WebGPU is expected (WHITTLE_EXPECT_WEBGPU=1 as CI sets it, or SwiftShader installed)
 * or on request (WHITTLE_WEBGPU_TESTS=1); it needs Debian's chromium. One browser, one page, one
 * onnxruntime-web start-up for both files, a prompt and one decode step: 10–20 s on 2 cores, most
 * of it SwiftShader compiling shaders and onnxruntime-web's wasm start-up.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { decoderIo, greedyGenerate, openOrtDecoder } from '@whittle/eval/node';
import { readModelFile } from '@whittle/onnx/node';
import { float16BitsToFloat32 } from '@whittle/tensor';
import type { Model } from '@whittle/graph';
import { lmCorpus, lmZooModel } from '@whittle/testing/lm';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { LAVAPIPE_ICD, runOrtWebInNode } from './fixtures/ort_web_node.js';
import { type PageResult, type PageVariant, PAGE_RUN, launchWebGpuChromium, logsByModel, relativeError, runInPage, webGpuTestScope } from './fixtures/ort_web_page.js';
import { WEBGPU_EP_OPS, floatComputeNodes, nodePlacements } from './fixtures/webgpu_ops.js';

const { dir, run, keep } = webGpuTestScope('whittle-tjs-webgpu-');

const title = 'export-transformers q4 / q4f16 in onnxruntime-web WebGPU (Chromium on SwiftShader; Node on lavapipe, shader-f16)';

/** The exported folder and what both runtimes are checked against. */
interface Exported {
  folder: string;
  q4Model: Model;
  q4Ops: string[];
  /** Path of each dtype's file inside the folder. */
  paths: Map<string, string>;
  /** The prompt and decode steps per dtype, with `/m/` URLs for the page. */
  variants: PageVariant[];
  /** onnxruntime-node's last-row logits of every call, per dtype. */
  want: Map<string, Float32Array[]>;
}

/** Each result's logits against onnxruntime-node's: float32 activations within 1e-4 of the largest logit (measured: 3e-7), float16 ones 3 %. */
function expectLogits(res: PageResult['results'][number], want: Map<string, Float32Array[]>): void {
  expect(res.error, res.dtype).toBeUndefined();
  expect(res.logits).toHaveLength(2);
  res.logits!.forEach((l, k) => {
    const got = l.f16bits ? l.data.map(float16BitsToFloat32) : l.data;
    expect(relativeError(got, want.get(res.dtype)![k]!), `${res.dtype} call ${k}`).toBeLessThan(res.dtype === 'q4f16' ? 0.03 : 1e-4);
  });
}

describe.runIf(run)(title, () => {
  let ex: Exported;
  beforeAll(async () => {
    const zoo = lmZooModel();
    const folder = join(dir, 'zoo');
    const r = await exportTransformersJs(zoo.path, { tokenizer: zoo.tokenizerPath, tokenizerConfig: zoo.tokenizerConfigPath, out: folder, variants: 'q4,q4f16,q2' });
    const q4 = r.variants.find((v) => v.dtype === 'q4')!;
    // onnxruntime-node's logits on real held-out text: the prompt, then its greedy token fed back
    // through the cache (each new shape costs shader compiles, so one decode step)
    const prompt = zoo.tokenizer().encode(lmCorpus().heldOut[1]!.text.slice(2000, 2200)).slice(0, 10);
    const variants: PageVariant[] = [];
    const want = new Map<string, Float32Array[]>();
    for (const v of r.variants) {
      const node = await openOrtDecoder(join(folder, v.path), { intraOpNumThreads: 1 });
      const g = await greedyGenerate(node, decoderIo(node, v.path), prompt, 2, { keepLogits: true });
      await node.release();
      want.set(v.dtype, g.logits!);
      variants.push({ dtype: v.dtype, file: `/m/${v.path}`, prompt, steps: g.tokens.slice(0, 1) });
    }
    ex = { folder, q4Model: await readModelFile(join(folder, q4.path)), q4Ops: q4.ops, paths: new Map(r.variants.map((v) => [v.dtype, v.path])), variants, want };
  }, 120_000);

  it('Chromium: q4 WebGPU ops only, every float node placed on WebGPU, logits equal onnxruntime-node over a KV-cache loop; q4f16 checked or refused by shader-f16', async () => {
    const { q4Model, q4Ops, variants, want, folder } = ex;
    const browser = launchWebGpuChromium(mkdtempSync(join(dir, 'profile-')));
    // statically: every op of the q4 file has a WebGPU kernel, the weights are 4-bit blocks
    expect(q4Ops.filter((o) => !WEBGPU_EP_OPS.has(o)), 'ops without a WebGPU kernel').toEqual([]);
    expect(q4Ops).toEqual(expect.arrayContaining(['com.microsoft:MatMulNBits', 'com.microsoft:GatherBlockQuantized']));
    const count = (op: string): number => q4Model.graph.nodes.filter((n) => n.opType === op).length;

    const { result: web, log, requests, origin } = await runInPage<PageResult>(browser, folder, PAGE_RUN, variants, keep);
    expect(web.adapter.toLowerCase(), 'the SwiftShader adapter').toMatch(/swiftshader/);
    const logs = logsByModel(log);

    // q4 ran on WebGPU: the quantized ops and every node computing on floats placed there; the
    // CPU keeps only integer shape arithmetic (onnxruntime assigns it there on purpose), and the
    // MatMulNBits / GatherBlockQuantized programs were started on the GPU
    const placed = nodePlacements(logs.get('q4') ?? []);
    const gpu = placed.get('WebGpuExecutionProvider') ?? [];
    const cpu = placed.get('CPUExecutionProvider') ?? [];
    expect([...placed.keys()].every((ep) => ep === 'WebGpuExecutionProvider' || ep === 'CPUExecutionProvider'), [...placed.keys()].join(', ')).toBe(true);
    expect(gpu.filter((n) => n.op === 'MatMulNBits')).toHaveLength(count('MatMulNBits'));
    expect(gpu.filter((n) => n.op === 'GatherBlockQuantized')).toHaveLength(count('GatherBlockQuantized'));
    const floats = floatComputeNodes(q4Model);
    // the analysis sees the float work (else the check below would hold vacuously)
    expect(q4Model.graph.nodes.filter((n) => /^(MatMulNBits|GatherBlockQuantized|LayerNormalization|Softmax)$/.test(n.opType)).every((n) => floats.has(n.name))).toBe(true);
    const names = new Set(q4Model.graph.nodes.map((n) => n.name));
    expect(cpu.filter((n) => !names.has(n.name) || floats.has(n.name)), 'float nodes on the CPU').toEqual([]);
    const programs = new Set((logs.get('q4') ?? []).flatMap((l) => /Starting program "([A-Za-z]+)/.exec(l)?.[1] ?? []));
    expect([...programs].some((p) => p.startsWith('MatMulNBits')), [...programs].join(', ')).toBe(true);
    expect(programs.has('GatherBlockQuantized')).toBe(true);
    console.log(`q4 on ${web.adapter}: ${gpu.length} nodes on WebGPU, ${cpu.length} shape nodes on the CPU (${cpu.map((n) => n.op).join(', ')})`);

    const f16 = web.features.includes('shader-f16');
    for (const res of web.results) {
      if (res.dtype === 'q4f16' && !f16) {
        // no shader-f16 (SwiftShader): onnxruntime-web cannot run a float16 model on this adapter
        expect(res.error, 'q4f16 without shader-f16').toMatch(/requires f16 but the device does not support it/);
        console.log(`q4f16 not run in Chromium: the WebGPU adapter (${web.adapter}) lacks shader-f16; onnxruntime-web: ${res.error!.split('Status Message: ').pop()}`);
        continue;
      }
      expectLogits(res, want);
    }
    expect(requests.every((u) => u.startsWith(`${origin}/`))).toBe(true);
  }, 120_000);

  it.runIf(LAVAPIPE_ICD !== undefined)('Node, Dawn on lavapipe: q4f16 and q4 run on WebGPU (float16 programs on a shader-f16 adapter), logits equal onnxruntime-node', async () => {
    const { q4Model, paths, variants, want } = ex;
    const runs = variants.filter((v) => v.dtype === 'q4f16' || v.dtype === 'q4').map((v) => ({ ...v, file: join(ex.folder, paths.get(v.dtype)!) }));
    const { result, log } = await runOrtWebInNode<PageResult>(PAGE_RUN, runs, LAVAPIPE_ICD!);
    expect(result.adapter, 'the lavapipe adapter').toMatch(/llvmpipe/i);
    expect(result.features, 'shader-f16: lavapipe from Mesa 24 on has it (.ci/run installs Mesa from bookworm-backports on Debian 12)').toContain('shader-f16');
    const logs = logsByModel(log);
    for (const res of result.results) expectLogits(res, want);
    // q4f16: the 4-bit ops on WebGPU, their programs run there in float16
    const count = (op: string): number => q4Model.graph.nodes.filter((n) => n.opType === op).length;
    const placed = nodePlacements(logs.get('q4f16') ?? []);
    const gpu = placed.get('WebGpuExecutionProvider') ?? [];
    expect(gpu.filter((n) => n.op === 'MatMulNBits')).toHaveLength(count('MatMulNBits'));
    expect(gpu.filter((n) => n.op === 'GatherBlockQuantized')).toHaveLength(count('GatherBlockQuantized'));
    const programs = new Set((logs.get('q4f16') ?? []).flatMap((l) => /Starting program "([A-Za-z]+)/.exec(l)?.[1] ?? []));
    expect([...programs].some((p) => p.startsWith('MatMulNBits')), [...programs].join(', ')).toBe(true);
    expect((logs.get('q4f16') ?? []).some((l) => /enable f16;/.test(l)), 'a float16 WGSL program').toBe(true);
    const worst = Math.max(...result.results.find((r) => r.dtype === 'q4f16')!.logits!.map((l, k) => relativeError(l.data.map(float16BitsToFloat32), want.get('q4f16')![k]!)));
    console.log(`q4f16 on ${result.adapter}: ${gpu.length} nodes on WebGPU; logits within ${(worst * 100).toFixed(2)} % of onnxruntime-node's over the KV-cache loop`);
  }, 60_000);
});

// elsewhere the reason shows in the skipped suite's name
if (!run) describe.skip(`${title} (skipped: WebGPU not expected on this machine; install Debian chromium, or set WHITTLE_WEBGPU_TESTS=1)`, () => it('needs WebGPU', () => {}));
