/**
 * onnxruntime-web (wasm execution provider) in the worker. Its runtime (.wasm) is an asset of
 * this app — Vite copies it into the build and serves it in dev — so the page never asks a CDN;
 * one thread, because the page is not cross-origin isolated (no SharedArrayBuffer).
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { type EvalDataset, datasetSize, sampleElementType, sliceBatch } from '@whittle/eval';

let configured = false;

function configure(): void {
  if (configured) return;
  ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, self.location.href).href };
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  configured = true;
}

/** What runs the evaluation, for reports. */
export const ORT_RUNTIME = `onnxruntime-web ${ort.env.versions.web ?? ''} (wasm, 1 thread)`.trim();

/** What {@link ortOutputs} returns. */
export interface OrtOutputs {
  values: Float32Array;
  /** Values per sample. */
  classes: number;
  /** Size of the output's last dim (the class axis of logits; top-1 is taken along it). */
  lastDim: number;
  /** Milliseconds to create the session and to run every batch. */
  createMs: number;
  runMs: number;
}

/** First-output rows of a model over the first `limit` samples (default all) of a dataset, batched. */
export async function ortOutputs(
  bytes: Uint8Array,
  data: EvalDataset,
  opts: { batchSize: number; signal: AbortSignal; onBatch?: (done: number, total: number) => void; limit?: number },
): Promise<OrtOutputs> {
  configure();
  const t0 = performance.now();
  // onnxruntime-web may take ownership of the buffer it is given: hand it a copy
  const session = await ort.InferenceSession.create(bytes.slice(), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const t1 = performance.now();
  try {
    const n = Math.min(opts.limit ?? Infinity, datasetSize(data));
    const output = session.outputNames[0]!;
    let values: Float32Array | undefined;
    let classes = 0;
    let lastDim = 1;
    for (let s = 0; s < n; s += opts.batchSize) {
      opts.signal.throwIfAborted();
      const m = Math.min(opts.batchSize, n - s);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(sliceBatch(data, s, m))) {
        feeds[name] = new ort.Tensor((f.type ?? sampleElementType(f.data)) as 'float32', f.data as Float32Array, f.dims);
      }
      const out = (await session.run(feeds))[output]!;
      const d = out.data as Float32Array;
      classes = d.length / m;
      lastDim = Number(out.dims[out.dims.length - 1] ?? 1) || 1;
      values ??= new Float32Array(n * classes);
      values.set(d, s * classes);
      out.dispose();
      opts.onBatch?.(s + m, n);
    }
    return { values: values ?? new Float32Array(0), classes, lastDim, createMs: t1 - t0, runMs: performance.now() - t1 };
  } finally {
    await session.release();
  }
}
