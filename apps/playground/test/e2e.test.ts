/**
 * End to end: the production build served by a static server, driven in Debian's headless
 * chromium through playwright-core — once with WebGPU (SwiftShader) and once without. Each run
 * loads the MNIST demo, runs 50 % pruning + int8 weights, checks every number the page shows
 * against the same computation in Node (library + onnxruntime-node), downloads the model and
 * runs it in onnxruntime-node, asserts the page talked only to its own origin, and saves a
 * screenshot under test-artifacts/.
 *
 * A third session opens a model of real size (no WebGPU: the cpu backend, the slow case): a
 * torchvision MobileNetV2 export (3.5 M parameters, 14 MB) as the .onnx and its external data
 * file (parsed in the worker), with the default preset of its kind ready, compressed while the
 * layer table is expanded (the page stays interactive), evaluated on the page's few random
 * samples and downloaded; the download runs in onnxruntime-node close to the original. A fourth
 * does the same with a 25.8 M-parameter BERT-like encoder (100 MB, built once per machine into
 * the OS temp dir) and its default preset, dynamic int8; `pnpm bench playground` times each step.
 * A fifth opens a third-party export, Silero VAD v5 (recurrent state and a scalar sample rate as
 * inputs): random samples that fit it, default preset with sensitivity, download run in
 * onnxruntime-node.
 */
import { type Recipe, resolveRecipe } from '@whittle/graph';
import { reportFromJson } from '@whittle/eval';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openBrowser, requireChromium, type Session } from './support/browser.js';
import { buildApp } from './support/build_app.js';
import { downloadFrom, foreignRequests, loadDemo, markStale, rowValues, screenshot, variantNames, waitOk } from './support/page_flow.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SensitivityResult } from '@whittle/prune';
import { accuracyFromScores } from '@whittle/eval';
import { decodeMnistPack } from '../src/data/mnist_format.js';
import { analyzeModel } from '../src/worker/analyze.js';
import type { ModelAnalysis } from '../src/worker/protocol.js';
import { writeNpy } from './support/npy_write.js';
import { measure, mnistData, nodeReference, nodeSensitivity, ortLogits } from './support/reference.js';
import { type StaticServer, serveStatic } from './support/static_server.js';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-node';
import { type BuiltModel, cachedTransformer, writeMobilenet } from './support/models.js';
import { scaleFlow } from './support/scale_flow.js';
import { CORPUS, corpusFeeds, corpusPath } from '@whittle/testing/corpus';

const RECIPE: Recipe = {
  passes: [
    { pass: 'prune-unstructured', options: { sparsity: 0.5 } },
    { pass: 'quantize-weights', options: { bits: 8, granularity: 'per-channel' } },
  ],
};
const SEED = 0;
/** One of the 2,004 test digits: onnxruntime-web (wasm) and -node may round a near-tie differently. */
const ONE_SAMPLE = 1 / 2004 + 1e-12;

let server: StaticServer;
let reference: Awaited<ReturnType<typeof nodeReference>>;
let sensitivity: SensitivityResult;
let analyses: { original: ModelAnalysis; compressed: ModelAnalysis };
let modelDir: string;
let cnn: BuiltModel;

beforeAll(async () => {
  requireChromium();
  const [dist, ref] = await Promise.all([buildApp(), nodeReference(RECIPE, SEED)]);
  reference = ref;
  // the page measures sensitivity on the first 128 images of the training subset it ships
  sensitivity = await nodeSensitivity(decodeMnistPack(new Uint8Array(readFileSync(join(dist, 'demo', 'mnist-train.wmn')))).images, 128);
  // the worker's analysis code, run in Node on the same bytes
  analyses = { original: await analyzeModel(ref.original.bytes), compressed: await analyzeModel(ref.compressed.bytes) };
  server = await serveStatic(dist);
  modelDir = mkdtempSync(join(tmpdir(), 'whittle-playground-scale-'));
  cnn = writeMobilenet(modelDir, { external: true });
});

afterAll(async () => {
  await server?.close();
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

/** Build the recipe in the form, one step at a time, as a user would. */
async function recipeByForm(page: Page): Promise<void> {
  // the demo opens with its default preset loaded: start from an empty recipe
  expect(await page.$$eval('#steps > li', (l) => l.length)).toBeGreaterThan(0);
  await page.click('#clear-steps');
  expect(await page.isDisabled('#run')).toBe(true);
  expect(await page.textContent('#run-hint')).toMatch(/no steps/);
  await page.selectOption('#pass-select', 'prune-unstructured');
  await page.click('#add-step');
  await page.fill('#steps li[data-step="0"] [data-option="sparsity"] input', '0.5');
  await page.selectOption('#pass-select', 'quantize-weights');
  await page.click('#add-step');
  await page.fill('#steps li[data-step="1"] [data-option="bits"] input', '8');
  await page.selectOption('#steps li[data-step="1"] [data-option="granularity"] select', 'per-channel');
}

/** Run, then check the shown numbers against Node and return the new variant's name. */
async function compressAndCheck(page: Page): Promise<string> {
  await page.fill('#seed', String(SEED));
  await markStale(page, '#run-status');
  await page.click('#run');
  await waitOk(page, '#run-status');
  const names = await variantNames(page);
  expect(names).toHaveLength(2);
  const [base, variant] = [names[0]!, names[1]!];
  const row = await rowValues(page, variant);
  const orig = await rowValues(page, base);
  const { original: o, compressed: c } = reference;
  // sizes: the same bytes, measured by the same @whittle/eval code
  expect(orig.fileBytes).toBe(o.size.fileBytes);
  expect(row.fileBytes).toBe(c.size.fileBytes);
  expect(row.gzipBytes).toBe(c.size.gzipBytes);
  expect(row.parameters).toBe(c.size.parameters);
  expect(row.sparsity).toBeCloseTo(c.size.sparsity, 12);
  expect(row.ratio).toBeCloseTo(o.size.fileBytes / c.size.fileBytes, 12);
  // accuracy and fidelity: onnxruntime-web in the page vs onnxruntime-node here
  expect(Math.abs(orig.accuracy! - o.accuracy)).toBeLessThanOrEqual(ONE_SAMPLE);
  expect(Math.abs(row.accuracy! - c.accuracy)).toBeLessThanOrEqual(ONE_SAMPLE);
  expect(Math.abs(row.deltaPt! - (c.accuracy - o.accuracy) * 100)).toBeLessThanOrEqual(2 * ONE_SAMPLE * 100);
  expect(Math.abs(row.top1Agreement! - c.fidelity!.top1Agreement!)).toBeLessThanOrEqual(ONE_SAMPLE);
  expect(row.cosine).toBeCloseTo(c.fidelity!.cosine, 5);
  expect(row.sqnrDb).toBeCloseTo(c.fidelity!.sqnrDb, 2);
  // per-layer table of the original and weight histograms of the new variant (shown after a run)
  const layers = await page.$$eval('#layer-table tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-layer'), ...[...r.querySelectorAll('td[data-value]')].map((td) => Number(td.getAttribute('data-value')))]));
  expect(layers).toEqual(analyses.original.layers.map((l) => [l.name, l.parameters, l.bytes, l.gzipBytes, l.flops]));
  const hists = await page.$$eval('#weight-hists figure', (figs) => figs.map((f) => [f.getAttribute('data-layer'), Number(f.getAttribute('data-zeros')), Number(f.getAttribute('data-count'))]));
  expect(hists).toEqual(analyses.compressed.histograms.map((h) => [h.layer, h.zeros, h.count]));
  return variant;
}

/** The downloaded model is Node's model byte for byte and runs in onnxruntime-node. */
async function checkDownload(page: Page, variant: string, prefix: string): Promise<Buffer> {
  const { name, bytes } = await downloadFrom(page, '#dl-model', prefix);
  expect(name).toBe(`${variant}.onnx`);
  expect(Buffer.compare(bytes, Buffer.from(reference.compressed.bytes))).toBe(0);
  const run = await measure(new Uint8Array(bytes), reference.original.logits);
  const row = await rowValues(page, variant);
  expect(Math.abs(run.accuracy - row.accuracy!)).toBeLessThanOrEqual(ONE_SAMPLE);
  expect(run.accuracy).toBeGreaterThan(reference.original.accuracy - 0.02);
  expect(run.fidelity!.top1Agreement).toBeGreaterThan(0.95);
  expect(run.fidelity!.cosine).toBeGreaterThan(0.95);
  return bytes;
}

async function backendsShown(page: Page): Promise<{ badge: string | null; passes: string | null; sensitivity: string | null }> {
  return {
    badge: await page.getAttribute('#backend-badge', 'data-backend'),
    passes: await page.getAttribute('#run-log [data-role="pass-backend"]', 'data-backend'),
    sensitivity: await page.getAttribute('#sensitivity-caption', 'data-backend'),
  };
}

/**
 * The heatmap's values (forward passes in onnxruntime-web) equal @whittle/prune's
 * sensitivityAnalysis in Node (Whittle's interpreter, same masks) within two of the 128 samples:
 * the runtimes sum float32 in different orders, which can flip a near-tie.
 */
async function checkSensitivity(page: Page): Promise<void> {
  const shown = await page.$$eval('#sensitivity-table tbody tr', (rows) => rows.map((r) => ({ layer: r.getAttribute('data-layer'), values: [...r.querySelectorAll('td[data-value]')].map((td) => Number(td.getAttribute('data-value'))) })));
  expect(shown.map((r) => r.layer)).toEqual(sensitivity.layers.map((l) => l.node));
  const tol = 2 / 128 + 1e-12;
  shown.forEach((r, i) => {
    const want = sensitivity.layers[i]!.points.map((p) => p.metric);
    expect(r.values).toHaveLength(want.length);
    r.values.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThanOrEqual(tol));
  });
}

function expectOwnOriginOnly(s: Session): void {
  const origin = new URL(server.url).origin;
  expect(s.requests.some((u) => u.endsWith('.wasm'))).toBe(true); // worker requests are recorded too
  expect(foreignRequests(s.requests, origin)).toEqual([]);
}

describe('playground in headless chromium', () => {
  test('without WebGPU: passes on the JS/WASM cpu backend, form-built recipe, report, model card, cancel, drop to open', async () => {
    const s = await openBrowser({ webgpu: false });
    try {
      const { page } = s;
      await page.goto(server.url);
      await loadDemo(page);
      await recipeByForm(page);
      const variant = await compressAndCheck(page);
      expect(await backendsShown(page)).toEqual({ badge: 'cpu', passes: 'cpu', sensitivity: 'cpu' });
      await checkSensitivity(page);
      await screenshot(page, 'playground-cpu.png');
      const bytes = await checkDownload(page, variant, 'cpu');

      const recipe = JSON.parse((await downloadFrom(page, '#dl-recipe', 'cpu')).bytes.toString('utf8')) as Recipe;
      expect(resolveRecipe(recipe).map((r) => [r.pass.name, r.options])).toEqual(resolveRecipe(RECIPE).map((r) => [r.pass.name, r.options]));
      const report = reportFromJson((await downloadFrom(page, '#dl-report-json', 'cpu')).bytes.toString('utf8'));
      const row = await rowValues(page, variant);
      expect(report.rows.map((r) => r.name)).toEqual(['lenet300100', variant]);
      expect(report.rows[1]!.accuracy).toBe(row.accuracy);
      expect(report.rows[1]!.size.fileBytes).toBe(reference.compressed.size.fileBytes);
      expect(report.dataset).toMatchObject({ name: 'MNIST', count: 2004 });
      const card = (await downloadFrom(page, '#dl-card', 'cpu')).bytes.toString('utf8');
      expect(card).toContain(`# Model card: ${variant}`);
      expect(card).toContain(`| Accuracy | ${(row.accuracy! * 100).toFixed(2)} %`);
      expect((await downloadFrom(page, '#dl-report-md', 'cpu')).bytes.toString('utf8')).toContain(`\`${variant}\``);

      // cancel a long fine-tuning run: the page says so, keeps its results and the worker works again
      await page.selectOption('#preset', 'deep-compression');
      await page.fill('#steps li[data-step="0"] [data-option="epochs"] input', '60');
      await page.click('#run');
      await page.waitForFunction(() => Number(document.querySelector('#progress')?.getAttribute('data-fraction')) > 0, null, { timeout: 60_000 });
      await page.click('#cancel');
      await page.waitForFunction(() => /^Cancelled \(stopped in [\d.]+ s\)\.$/.test(document.querySelector('#run-status')?.textContent ?? ''), null, { timeout: 30_000 });
      expect(Number(await page.getAttribute('#run-status', 'data-cancel-ms'))).toBeLessThan(1000);
      expect(await variantNames(page)).toEqual(['lenet300100', variant]);
      await markStale(page, '#eval-status');
      await page.click('#evaluate');
      await waitOk(page, '#eval-status');
      expect((await rowValues(page, variant)).accuracy).toBe(row.accuracy);

      // drag and drop the downloaded model onto the page: it opens as a new original
      const drop = await page.evaluateHandle(({ data, name }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(data)], name));
        return dt;
      }, { data: [...bytes], name: `${variant}.onnx` });
      await markStale(page, '#model-status', '#eval-status');
      await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: drop });
      await waitOk(page, '#model-status');
      expect(await page.getAttribute('#model-facts [data-fact="fileBytes"]', 'data-value')).toBe(String(bytes.length));
      expect(Number(await page.getAttribute('#layer-table tr[data-layer="fc1"] td:nth-child(4)', 'data-value'))).toBeLessThan(942_000 / 3);
      await waitOk(page, '#eval-status'); // evaluated on random sample inputs (not the demo any more)

      expectOwnOriginOnly(s);
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });

  test('with WebGPU (SwiftShader): passes and sensitivity on the webgpu backend, preset recipe, file picker to open, user data evaluated on the WebGPU provider', async () => {
    const s = await openBrowser({ webgpu: true });
    try {
      const { page } = s;
      await page.goto(server.url);
      await loadDemo(page);
      expect(await page.textContent('#backend-badge')).toMatch(/WebGPU \(.*swiftshader.*\)/i);
      // SwiftShader is a software adapter: 'auto' runs onnxruntime-web's forward passes on wasm
      expect(await page.getAttribute('#ort-runtime', 'data-ep')).toBe('wasm');
      expect(await page.textContent('#ort-runtime')).toMatch(/on wasm: WebGPU adapter google swiftshader.* is a software one .*: wasm is faster\.$/);
      await page.selectOption('#preset', 'int8-prune50');
      const variant = await compressAndCheck(page);
      // passes on WebGPU; sensitivity's forward passes in onnxruntime-web's wasm runtime
      expect(await backendsShown(page)).toEqual({ badge: 'webgpu', passes: 'webgpu', sensitivity: 'cpu' });
      expect(await page.textContent('#sensitivity-caption')).toMatch(/measured in onnxruntime-web/);
      await checkSensitivity(page);
      await screenshot(page, 'playground-webgpu.png');
      const bytes = await checkDownload(page, variant, 'webgpu');

      await markStale(page, '#model-status', '#eval-status');
      await page.setInputFiles('#model-file', { name: `${variant}.onnx`, mimeType: 'application/octet-stream', buffer: bytes });
      await waitOk(page, '#model-status');
      expect(await page.getAttribute('#model-facts [data-fact="fileBytes"]', 'data-value')).toBe(String(bytes.length));
      await waitOk(page, '#eval-status');

      // evaluate on user data: every 10th test digit as input.npy + labels.npy
      const { test: t } = await mnistData();
      const pick = Array.from({ length: Math.floor(t.count / 10) }, (_, i) => i * 10);
      const x = new Float32Array(pick.length * 784);
      pick.forEach((p, i) => x.set(t.images.subarray(p * 784, (p + 1) * 784), i * 784));
      const y = BigInt64Array.from(pick, (p) => BigInt(t.labels[p]!));
      await page.selectOption('#data-source', 'files');
      await page.setInputFiles('#data-files', [
        { name: 'input.npy', mimeType: 'application/octet-stream', buffer: writeNpy(x, [pick.length, 1, 28, 28]) },
        { name: 'labels.npy', mimeType: 'application/octet-stream', buffer: writeNpy(y, [pick.length]) },
      ]);
      // forced onto onnxruntime-web's WebGPU execution provider (on SwiftShader): same accuracy as onnxruntime-node
      await page.selectOption('#ort-choice', 'webgpu');
      await page.waitForFunction(() => document.getElementById('ort-runtime')?.getAttribute('data-ep') === 'webgpu');
      await markStale(page, '#eval-status');
      await page.click('#evaluate');
      expect(await waitOk(page, '#eval-status')).toMatch(/in onnxruntime-web [\d.]+\S* \(webgpu, google swiftshader\)\.$/);
      const want = accuracyFromScores(await ortLogits(new Uint8Array(bytes), x), Int32Array.from(y, Number), 10);
      expect(Math.abs((await rowValues(page, variant)).accuracy! - want)).toBeLessThanOrEqual(1 / pick.length + 1e-12);

      expectOwnOriginOnly(s);
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

/** Outputs of the original and the downloaded model in onnxruntime-node on the same seeded input. */
async function ortPair(original: string, compressed: Buffer): Promise<{ a: Float32Array; b: Float32Array; dims: readonly number[] }> {
  const outs: { data: Float32Array; dims: readonly number[] }[] = [];
  for (const src of [original, compressed]) {
    // the original by path: its external data file is found next to it
    const s = typeof src === 'string' ? await ort.InferenceSession.create(src, { intraOpNumThreads: 1 }) : await ort.InferenceSession.create(new Uint8Array(src), { intraOpNumThreads: 1 });
    const meta = s.inputMetadata[0] as { name: string; type: string; shape: readonly (number | string)[] };
    const dims = meta.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 2 : 12));
    const n = dims.reduce((x, y) => x * y, 1);
    const feed =
      meta.type === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 1000)), dims)
        : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5), dims);
    const out = (await s.run({ [meta.name]: feed }))[s.outputNames[0]!]!;
    outs.push({ data: out.data as Float32Array, dims: out.dims });
    await s.release();
  }
  return { a: outs[0]!.data, b: outs[1]!.data, dims: outs[0]!.dims };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe('playground on a MobileNetV2-sized CNN (headless chromium, cpu backend)', () => {
  test('opened with external data; default preset for a CNN, compressed while the page stays interactive, evaluated, downloaded', async () => {
    expect(cnn.parameters).toBeGreaterThanOrEqual(3_000_000);
    const s = await openBrowser({ webgpu: false });
    try {
      await s.page.goto(server.url);
      const r = await scaleFlow(s.page, cnn.files, { artifactPrefix: 'scale-cnn' });
      expect(r.openStatus).toMatch(/external data inlined from mobilenet_v2\.onnx\.data/);
      expect(r.kind).toBe('cnn');
      expect(r.preset).toBe('int8-weights');
      expect(r.expandedWhileBusy).toBe(true);
      expect(r.layerRows).toBe(53);
      // sensitivity is off by default at this size: the run log has no sensitivity step
      expect(r.runLog.some((l) => /sensitivity/.test(l))).toBe(false);
      expect(r.sizes.compressed).toBeLessThan(r.sizes.original / 3);
      expect(r.fidelity.cosine).toBeGreaterThan(0.99);
      expect(r.download.name).toBe(`${r.variant}.onnx`);
      const { a, b } = await ortPair(cnn.path, r.download.bytes);
      expect(b.length).toBe(a.length);
      expect(cosine(a, b)).toBeGreaterThan(0.99);
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe('playground on a 25 M-parameter transformer encoder (headless chromium, cpu backend)', () => {
  test('default preset for a transformer, compressed while the page stays interactive, evaluated in onnxruntime-web wasm, downloaded', async () => {
    const bert = cachedTransformer(); // BERT-like, 8 layers, d 512 (built once per machine, then read from the OS temp dir)
    expect(bert.parameters).toBeGreaterThanOrEqual(25_000_000);
    const s = await openBrowser({ webgpu: false });
    try {
      await s.page.goto(server.url);
      const r = await scaleFlow(s.page, bert.files, { artifactPrefix: 'scale-transformer' });
      expect(r.kind).toBe('transformer');
      expect(r.preset).toBe('dynamic-int8');
      expect(r.expandedWhileBusy).toBe(true);
      expect(r.layerRows).toBe(133);
      expect(r.runLog.some((l) => /sensitivity/.test(l))).toBe(false);
      // no WebGPU adapter in this browser: the forward passes run on wasm, and the page says why; forcing WebGPU is refused
      await s.page.selectOption('#ort-choice', 'webgpu');
      await s.page.waitForFunction(() => document.getElementById('ort-runtime')?.getAttribute('data-kind') === 'error');
      expect(await s.page.textContent('#ort-runtime')).toMatch(/unavailable: .*no WebGPU adapter/);
      expect(r.ortRuntime).toEqual({ ep: 'wasm', text: 'Forward passes (evaluation, sensitivity) run in onnxruntime-web on wasm: no WebGPU adapter.' });
      expect(await s.page.textContent('#eval-status')).toMatch(/onnxruntime-web [\d.]+.* \(wasm, 1 thread\)/);
      expect(r.sizes.compressed).toBeLessThan(r.sizes.original / 3);
      expect(r.fidelity.cosine).toBeGreaterThan(0.99);
      await screenshot(s.page, 'scale-transformer.png');
      expect(r.download.name).toBe(`${r.variant}.onnx`);
      expect(r.download.bytes.length).toBe(r.sizes.compressed);
      const { a, b } = await ortPair(bert.path, r.download.bytes);
      expect(b.length).toBe(a.length);
      expect(cosine(a, b)).toBeGreaterThan(0.99);
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe('playground on a third-party export: Silero VAD v5 (headless chromium, cpu backend)', () => {
  test('random samples fit its state [2, 1, 128] and scalar sample rate; default preset (no sensitivity to measure: its weights sit inside If branches), evaluated, downloaded and run in onnxruntime-node', async () => {
    const vad = CORPUS.find((m) => m.id === 'vad-v5')!;
    const s = await openBrowser({ webgpu: false });
    try {
      const { page } = s;
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready=true]', { timeout: 120_000 });
      await markStale(page, '#model-status', '#eval-status');
      await page.setInputFiles('#model-file', corpusPath(vad));
      await waitOk(page, '#model-status');
      // the original runs on the page's random samples (no row of dashes)
      await waitOk(page, '#eval-status');
      // no layer whose weights are initializers of the main graph: per-layer sensitivity has nothing to measure
      expect(await page.isChecked('#with-sensitivity')).toBe(false);
      expect(await page.isDisabled('#with-sensitivity')).toBe(true);
      expect(await page.textContent('#sensitivity-plan')).toContain('nothing to measure');
      const preset = await page.$eval('#preset', (el) => (el as HTMLSelectElement).value);
      await markStale(page, '#run-status');
      await page.click('#run');
      await waitOk(page, '#run-status');
      const log = await page.$$eval('#run-log li', (l) => l.map((x) => x.textContent ?? ''));
      expect(log.some((l) => /sensitivity measured/.test(l))).toBe(false);
      const [base, variant] = await variantNames(page);
      const row = await rowValues(page, variant!);
      expect(row.cosine).toBeGreaterThan(0.99);
      const { name, bytes } = await downloadFrom(page, '#dl-model', 'vad');
      expect(name).toBe(`${variant}.onnx`);
      expect(bytes.length).toBeLessThan((await rowValues(page, base!)).fileBytes!);
      // the download runs in onnxruntime-node on the corpus' inputs, speech probability close to the original's
      const feeds = Object.fromEntries(Object.entries(corpusFeeds(vad)).map(([k, f]) => [k, new ort.Tensor(f.type, f.data, f.dims)]));
      const outs: Float32Array[] = [];
      for (const src of [corpusPath(vad), bytes]) {
        const sess = typeof src === 'string' ? await ort.InferenceSession.create(src) : await ort.InferenceSession.create(new Uint8Array(src));
        outs.push((await sess.run(feeds))['output']!.data as Float32Array);
        await sess.release();
      }
      expect(Math.abs(outs[1]![0]! - outs[0]![0]!)).toBeLessThan(0.05);
      expect(preset).toBe('int8-weights');
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
