/**
 * End to end on models of real size, in headless chromium without WebGPU (the cpu backend, the
 * slow case), one page session per model: a torchvision MobileNetV2 export (3.5 M parameters,
 * 14 MB) and a BERT-like encoder with token ids (>= 25 M parameters, ~100 MB). Each is opened
 * from a file (parsed in the worker), gets the default preset of its kind with Compress ready,
 * compresses while a layer table is expanded (the page stays interactive), evaluates on a few
 * random samples and downloads; the download runs in onnxruntime-node close to the original.
 * Timings of the same flow are `pnpm bench playground`, not asserted here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openBrowser, requireChromium } from './support/browser.js';
import { buildApp } from './support/build_app.js';
import { type BuiltModel, writeMobilenet, writeTransformer } from './support/models.js';
import { scaleFlow } from './support/scale_flow.js';
import { type StaticServer, serveStatic } from './support/static_server.js';

let server: StaticServer;
let dir: string;
let cnn: BuiltModel;
let bert: BuiltModel;

beforeAll(async () => {
  requireChromium();
  dir = mkdtempSync(join(tmpdir(), 'whittle-playground-scale-'));
  cnn = writeMobilenet(dir);
  bert = writeTransformer(dir);
  server = await serveStatic(await buildApp());
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Outputs of the original and the downloaded model in onnxruntime-node on the same seeded input. */
async function ortPair(original: string, compressed: Buffer): Promise<{ a: Float32Array; b: Float32Array; dims: readonly number[] }> {
  const outs: { data: Float32Array; dims: readonly number[] }[] = [];
  for (const src of [readFileSync(original), compressed]) {
    const s = await ort.InferenceSession.create(new Uint8Array(src), { intraOpNumThreads: 1 });
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

describe('playground on big models (headless chromium, cpu backend)', () => {
  for (const which of ['cnn', 'transformer'] as const) {
    test(`${which}: default preset for its kind, compress while the page stays interactive, evaluate, download`, async () => {
      const m = which === 'cnn' ? cnn : bert;
      expect(m.parameters).toBeGreaterThanOrEqual(which === 'cnn' ? 3_000_000 : 25_000_000);
      const s = await openBrowser({ webgpu: false });
      try {
        await s.page.goto(server.url);
        const r = await scaleFlow(s.page, [m.path], { artifactPrefix: `scale-${which}` });
        expect(r.kind).toBe(which);
        expect(r.preset).toBe('int8-weights');
        expect(r.expandedWhileBusy).toBe(true);
        expect(r.layerRows).toBe(which === 'cnn' ? 53 : 133);
        // sensitivity is off by default at this size: the log has no sensitivity step
        expect(r.runLog.some((l) => /sensitivity/.test(l))).toBe(false);
        expect(r.sizes.compressed).toBeLessThan(r.sizes.original / 3);
        expect(r.fidelity.cosine).toBeGreaterThan(0.99);
        expect(r.download.name).toBe(`${r.variant}.onnx`);
        const { a, b } = await ortPair(m.path, r.download.bytes);
        expect(b.length).toBe(a.length);
        expect(cosine(a, b)).toBeGreaterThan(0.99);
        expect(s.errors).toEqual([]);
      } finally {
        await s.close();
      }
    });
  }
});
