/**
 * The q4, q4f16 and q2 files `whittle export-transformers` writes for the zoo LM, in onnxruntime-web
 * with the WebGPU provider in headless Chromium on SwiftShader: q4 uses only ops that provider
 * implements, onnxruntime-web places every node computing on floats on WebGPU (its verbose
 * session log) and runs the MatMulNBits / GatherBlockQuantized programs there, and the KV-cache
 * loop in the page gives the logits onnxruntime-node gives on the same tokens (q2's 2-bit MatMulNBits
 * too). q4f16 needs the
 * adapter's shader-f16 feature: with it its logits are checked the same way; without it (SwiftShader)
 * onnxruntime-web must refuse to run it, and the test says so.
 *
 * Runs where WebGPU is expected (WHITTLE_EXPECT_WEBGPU=1 as CI sets it, or SwiftShader installed)
 * or on request (WHITTLE_WEBGPU_TESTS=1); it needs Debian's chromium. One browser, one page, one
 * onnxruntime-web start-up for both files, a prompt and one decode step: 10–20 s on 2 cores, most
 * of it SwiftShader compiling shaders and onnxruntime-web's wasm start-up.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { decoderIo, greedyGenerate, openOrtDecoder } from '@whittle/eval/node';
import { readModelFile } from '@whittle/onnx/node';
import { float16BitsToFloat32 } from '@whittle/tensor';
import { lmCorpus, lmZooModel } from '@whittle/testing/lm';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { type PageResult, type PageVariant, PAGE_RUN, launchWebGpuChromium, logsByModel, relativeError, runInPage, webGpuTestScope } from './fixtures/ort_web_page.js';
import { WEBGPU_EP_OPS, floatComputeNodes, nodePlacements } from './fixtures/webgpu_ops.js';

const { dir, run, keep } = webGpuTestScope('whittle-tjs-webgpu-');
const title = 'export-transformers q4 / q4f16 in onnxruntime-web WebGPU (SwiftShader)';

describe.runIf(run)(title, () => {
  it('q4: WebGPU ops only, every float node placed on WebGPU, logits equal onnxruntime-node over a KV-cache loop; q4f16 checked or refused by shader-f16', async () => {
    const zoo = lmZooModel();
    const browser = launchWebGpuChromium(mkdtempSync(join(dir, 'profile-'))); // starts while the files are written
    const folder = join(dir, 'zoo');
    const r = await exportTransformersJs(zoo.path, { tokenizer: zoo.tokenizerPath, tokenizerConfig: zoo.tokenizerConfigPath, out: folder, variants: 'q4,q4f16,q2' });
    const q4 = r.variants.find((v) => v.dtype === 'q4')!;
    // statically: every op of the q4 file has a WebGPU kernel, the weights are 4-bit blocks
    expect(q4.ops.filter((o) => !WEBGPU_EP_OPS.has(o)), 'ops without a WebGPU kernel').toEqual([]);
    expect(q4.ops).toEqual(expect.arrayContaining(['com.microsoft:MatMulNBits', 'com.microsoft:GatherBlockQuantized']));
    const q4Model = await readModelFile(join(folder, q4.path));
    const count = (op: string): number => q4Model.graph.nodes.filter((n) => n.opType === op).length;

    // onnxruntime-node's logits on real held-out text: the prompt, then its greedy token fed back
    // through the cache (each new shape costs SwiftShader shader compiles, so one decode step)
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
        console.log(`q4f16 not run: the WebGPU adapter (${web.adapter}) lacks shader-f16; onnxruntime-web: ${res.error!.split('Status Message: ').pop()}`);
        continue;
      }
      expect(res.error, res.dtype).toBeUndefined();
      expect(res.logits).toHaveLength(2);
      res.logits!.forEach((l, k) => {
        const got = l.f16bits ? l.data.map(float16BitsToFloat32) : l.data;
        // float32 activations (q4, and q2's 2-bit MatMulNBits): within 1e-4 of the largest logit (measured: 3e-7); float16 activations: 3 %
        expect(relativeError(got, want.get(res.dtype)![k]!), `${res.dtype} call ${k}`).toBeLessThan(res.dtype === 'q4f16' ? 0.03 : 1e-4);
      });
    }
    expect(requests.every((u) => u.startsWith(`${origin}/`))).toBe(true);
  }, 120_000);
});

// elsewhere the reason shows in the skipped suite's name
if (!run) describe.skip(`${title} (skipped: WebGPU not expected on this machine; install Debian chromium, or set WHITTLE_WEBGPU_TESTS=1)`, () => it('needs WebGPU', () => {}));
