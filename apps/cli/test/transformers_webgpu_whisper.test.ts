/**
 * A third-party speech model's q4 files in onnxruntime-web with the WebGPU provider (headless
 * Chromium, SwiftShader): `whittle export-transformers` on Xenova's whisper-tiny folder, which
 * ships only dynamic-int8 sub-models (MatMulInteger, ConvInteger), writes q4 encoder and merged
 * decoder whose ops all have WebGPU kernels (MatMulNBits, GatherBlockQuantized, the stem
 * convolutions as DequantizeLinear → Conv); onnxruntime-web places every node computing on floats
 * on WebGPU, and the encoder's hidden states of a spoken sentence's log-mel features and the
 * decoder's first-step logits equal onnxruntime-node's on the same files. (q4f16 needs the
 * adapter's shader-f16, which SwiftShader lacks: the zoo LM's WebGPU test covers that refusal.)
 *
 * Runs where WebGPU is expected (WHITTLE_EXPECT_WEBGPU=1 as CI sets it, or SwiftShader installed)
 * or on request (WHITTLE_WEBGPU_TESTS=1); it needs Debian's chromium. The encoder's run (30 s of
 * audio through four layers: about a minute of SwiftShader on 2 cores) is added with
 * WHITTLE_WEBGPU_SLOW=1; by default the decoder runs in the page on the int8 encoder's states.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoProcessor } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { graphScopes } from '@whittle/graph';
import '@whittle/quantize';
import { createOrtRunner, decodeWav, type OrtFeed } from '@whittle/eval/node';
import { readModelFile } from '@whittle/onnx/node';
import { PREQUANTIZED_CORPUS, corpusPath } from '@whittle/testing/corpus';
import { exportTransformersFolder } from '../src/commands/export_transformers_folder.js';
import { type PageFeed, type PageFeedsResult, type PageModelRun, PAGE_RUN_FEEDS, launchWebGpuChromium, logsByModel, relativeError, runInPage, webGpuTestScope } from './fixtures/ort_web_page.js';
import { WEBGPU_EP_OPS, floatNodes, nodePlacements } from './fixtures/webgpu_ops.js';

const { dir, run, keep } = webGpuTestScope('whittle-whisper-webgpu-');
const withEncoder = process.env.WHITTLE_WEBGPU_SLOW === '1';
const title = 'export-transformers on whisper-tiny (int8 only): q4 in onnxruntime-web WebGPU (SwiftShader)';
const SPEECH = fileURLToPath(new URL('./fixtures/speech_quick_brown_fox.wav', import.meta.url));
// <|startoftranscript|> <|en|> <|transcribe|> <|notimestamps|>
const PROMPT = [50258, 50259, 50359, 50363];

describe.runIf(run)(title, () => {
  it(`q4: WebGPU ops only, every float node on WebGPU, ${withEncoder ? 'encoder states and ' : ''}decoder logits equal onnxruntime-node`, async () => {
    const whisper = dirname(dirname(corpusPath(PREQUANTIZED_CORPUS.find((m) => m.id === 'whisper-encoder')!)));
    const browser = launchWebGpuChromium(mkdtempSync(join(dir, 'profile-'))); // starts while the files are written
    const folder = join(dir, 'whisper-tiny');
    const r = await exportTransformersFolder(whisper, { out: folder, variants: 'q4', ...(withEncoder ? {} : { models: 'decoder_model_merged' }) });
    // no quantized op the provider lacks (ConstantOfShape / Constant feed shapes: the placements below check those)
    for (const v of r.variants) expect(v.ops.filter((o) => !WEBGPU_EP_OPS.has(o) && o !== 'Constant' && o !== 'ConstantOfShape'), `${v.path}: ops without a WebGPU kernel`).toEqual([]);

    // onnxruntime-node on the same files: the sentence's log-mel features, then the prompt
    const processor = await AutoProcessor.from_pretrained(whisper, { local_files_only: true });
    const audio = decodeWav(new Uint8Array(readFileSync(SPEECH)), SPEECH, 16000).samples;
    const features = (await processor(audio)).input_features as { data: Float32Array; dims: number[] };
    const runs: PageModelRun[] = [];
    const want = new Map<string, Record<string, Float32Array>>();
    const tail = (a: Float32Array, n: number): Float32Array => a.subarray(a.length - n);
    for (const dtype of ['q4']) {
      const enc = await createOrtRunner(withEncoder ? join(folder, 'onnx', `encoder_model_${dtype}.onnx`) : join(whisper, 'onnx', 'encoder_model_quantized.onnx'));
      const states = (await enc.run({ input_features: { data: features.data, dims: features.dims } })).last_hidden_state!;
      await enc.release();
      const dec = await createOrtRunner(join(folder, 'onnx', `decoder_model_merged_${dtype}.onnx`));
      const feeds: Record<string, PageFeed> = {
        input_ids: { type: 'int64', dims: [1, PROMPT.length], data: PROMPT },
        // the node encoder's states, so the decoder is compared on its own
        encoder_hidden_states: { type: 'float32', dims: states.dims, data: Array.from(states.data) },
        use_cache_branch: { type: 'bool', dims: [1], data: [0] },
      };
      for (const name of dec.inputNames.filter((n) => n.startsWith('past_key_values.'))) feeds[name] = { type: 'float32', dims: [1, 6, 0, 64], data: [] };
      const nodeFeeds: Record<string, OrtFeed> = {};
      for (const [k, f] of Object.entries(feeds)) {
        nodeFeeds[k] = f.type === 'int64' ? { data: BigInt64Array.from(f.data, BigInt), dims: f.dims, type: 'int64' } : f.type === 'bool' ? { data: Uint8Array.from(f.data), dims: f.dims, type: 'bool' } : { data: Float32Array.from(f.data), dims: f.dims };
      }
      const logits = (await dec.run(nodeFeeds)).logits!;
      await dec.release();
      const vocab = logits.dims[2]!;
      want.set(`encoder ${dtype}`, { last_hidden_state: tail(states.data, 384 * 300) });
      want.set(`decoder ${dtype}`, { logits: tail(logits.data, vocab) });
      if (withEncoder) runs.push({ label: `encoder ${dtype}`, file: `/m/onnx/encoder_model_${dtype}.onnx`, feeds: { input_features: { type: 'float32', dims: features.dims, data: Array.from(features.data) } }, outputs: ['last_hidden_state'], tail: 384 * 300 });
      runs.push({ label: `decoder ${dtype}`, file: `/m/onnx/decoder_model_merged_${dtype}.onnx`, feeds, outputs: ['logits'], tail: vocab });
    }

    const { result: web, log, requests, origin } = await runInPage<PageFeedsResult>(browser, folder, PAGE_RUN_FEEDS, runs, keep);
    expect(web.adapter.toLowerCase(), 'the SwiftShader adapter').toMatch(/swiftshader/);
    const logs = logsByModel(log.map((l) => l.replace(/^@@model (encoder|decoder) /, '@@model $1_')));

    // q4 ran on WebGPU: every node computing on floats placed there, the CPU keeps shape arithmetic
    for (const [sub, file] of [...(withEncoder ? [['encoder', 'encoder_model_q4.onnx'] as const] : []), ['decoder', 'decoder_model_merged_q4.onnx'] as const]) {
      const model = await readModelFile(join(folder, 'onnx', file));
      const placed = nodePlacements(logs.get(`${sub}_q4`) ?? []);
      const gpu = placed.get('WebGpuExecutionProvider') ?? [];
      const cpu = placed.get('CPUExecutionProvider') ?? [];
      expect([...placed.keys()].every((ep) => ep === 'WebGpuExecutionProvider' || ep === 'CPUExecutionProvider'), [...placed.keys()].join(', ')).toBe(true);
      expect(gpu.length, `${sub}: nodes on WebGPU`).toBeGreaterThan(0);
      const floats = floatNodes(model);
      // the merged decoder's work is in its If branches, whose exporter reuses node names across
      // the two (a float Add in one, an int64 Add in the other): a CPU node is float work only
      // when every node of its op and name is
      const all = graphScopes(model.graph).flatMap((x) => x.graph.nodes);
      const floatWork = (p: { op: string; name: string }): boolean => {
        const same = all.filter((n) => n.name === p.name && n.opType === p.op);
        return same.length === 0 || same.every((n) => floats.has(n));
      };
      expect(cpu.filter(floatWork), `${sub}: float nodes on the CPU`).toEqual([]);
      console.log(`whisper ${sub} q4 on ${web.adapter}: ${gpu.length} nodes on WebGPU, ${cpu.length} shape nodes on the CPU`);
    }
    for (const res of web.results) {
      expect(res.error, res.label).toBeUndefined();
      // float32 activations: within 1e-3 of the largest value (WebGPU sums in another order)
      for (const [name, got] of Object.entries(res.outputs!)) expect(relativeError(got, want.get(res.label)![name]!), `${res.label} ${name}`).toBeLessThan(1e-3);
    }
    expect(web.results.map((x) => x.label)).toEqual(withEncoder ? ['encoder q4', 'decoder q4'] : ['decoder q4']);
    expect(requests.every((u) => u.startsWith(`${origin}/`))).toBe(true);
  }, 240_000);
});

if (!run) describe.skip(`${title} (skipped: WebGPU not expected on this machine; install Debian chromium, or set WHITTLE_WEBGPU_TESTS=1)`, () => it('needs WebGPU', () => {}));
