/**
 * onnxruntime-web in the worker: the wasm execution provider, or the WebGPU one on a hardware
 * adapter ({@link chooseOrtRuntime}). Its runtimes (.wasm) are assets of this app — Vite copies
 * them into the build and serves them in dev — so the page never asks a CDN; one thread, because
 * the page is not cross-origin isolated (no SharedArrayBuffer).
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { type EvalDataset, datasetSize, maxBatchSize, sampleElementType, sliceBatch } from '@whittle/eval';
import { probeAdapter } from './ort_adapter.js';
import { type OrtChoice, adapterLabel, chooseOrtRuntime } from './ort_choice.js';
import type { OrtRuntimeInfo } from './protocol.js';
import { SessionCache, fingerprint } from './ort_sessions.js';
import { asFloat32, evaluatedOutput, rowLength } from './ort_output.js';

let configured = false;

function configure(): void {
  if (configured) return;
  ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, self.location.href).href };
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  configured = true;
}

/** What runs the evaluation with the wasm provider, for reports. */
export const ORT_RUNTIME = `onnxruntime-web ${ort.env.versions.web ?? ''} (wasm, 1 thread)`.trim();

/** Decide the provider for `choice` from this browser's adapter (probed once). */
export async function resolveOrtRuntime(choice: OrtChoice = 'auto'): Promise<OrtRuntimeInfo> {
  const probed = await probeAdapter();
  const pick = chooseOrtRuntime(probed?.facts ?? null, choice);
  const label = pick.ep === 'wasm' ? ORT_RUNTIME : `onnxruntime-web ${ort.env.versions.web ?? ''} (webgpu, ${adapterLabel(probed!.facts)})`;
  return { ...pick, label };
}

type OrtModule = Pick<typeof ort, 'InferenceSession' | 'Tensor'>;

/**
 * onnxruntime-web's wasm provider, configured, for the passes' calibration forwards: far faster
 * than Whittle's interpreter on convolutional models (converting PaddleOCR's classifier to
 * float16 measured its ranges for 93 s in the interpreter).
 */
export function wasmOrtModule(): OrtModule {
  configure();
  return ort;
}

async function moduleFor(ep: 'wasm' | 'webgpu'): Promise<OrtModule> {
  configure();
  if (ep === 'wasm') return ort;
  const probed = await probeAdapter();
  const { ortWebGpu } = await import('./ort_webgpu.js');
  return ortWebGpu(probed!.adapter) as unknown as OrtModule;
}

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

/** The original and the latest variant: what the page evaluates again (two 100 MB sessions at most). */
const sessions = new SessionCache<Session>(2);

/** What {@link ortOutputs} returns. */
export interface OrtOutputs {
  values: Float32Array;
  /** Values per sample. */
  classes: number;
  /** Size of the output's last dim (the class axis of logits; top-1 is taken along it); 1 for a [batch] output. */
  lastDim: number;
  /** Milliseconds to create the session (when it was first created, on a cache hit) and to run every batch. */
  createMs: number;
  runMs: number;
}

/**
 * Rows of the evaluated output ({@link evaluatedOutput}) of a model over the first `limit` samples (default all) of a dataset,
 * batched; `cache` keeps the session for the next call on the same bytes (see {@link SessionCache}).
 */
export async function ortOutputs(
  bytes: Uint8Array,
  data: EvalDataset,
  opts: { batchSize: number; signal: AbortSignal; onBatch?: (done: number, total: number) => void; limit?: number; ep?: 'wasm' | 'webgpu'; cache?: boolean },
): Promise<OrtOutputs> {
  const ep = opts.ep ?? 'wasm';
  const rt = await moduleFor(ep);
  const key = opts.cache ? `${ep}:${fingerprint(bytes)}` : '';
  const hit = opts.cache ? sessions.get(key) : undefined;
  const t0 = performance.now();
  // onnxruntime-web may take ownership of the buffer it is given: hand it a copy
  const session = hit?.session ?? (await rt.InferenceSession.create(bytes.slice(), { executionProviders: [ep], graphOptimizationLevel: 'all' }));
  const t1 = performance.now();
  const createMs = hit?.createMs ?? t1 - t0;
  if (opts.cache && !hit) await sessions.put(key, session, createMs);
  try {
    const n = Math.min(opts.limit ?? Infinity, datasetSize(data));
    const output = evaluatedOutput(session.outputMetadata);
    let values: Float32Array | undefined;
    let classes = 0;
    let lastDim = 1;
    const batch = maxBatchSize(data, opts.batchSize);
    for (let s = 0; s < n; s += batch) {
      opts.signal.throwIfAborted();
      const m = Math.min(batch, n - s);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(sliceBatch(data, s, m))) {
        feeds[name] = new rt.Tensor((f.type ?? sampleElementType(f.data)) as 'float32', f.data as Float32Array, f.dims);
      }
      // fetch only that output: reading a non-tensor one (a ZipMap) fails the run
      const out = (await session.run(feeds, [output]))[output]!;
      const d = asFloat32(out.data, out.type);
      classes = d.length / m;
      lastDim = rowLength(out.dims);
      values ??= new Float32Array(n * classes);
      values.set(d, s * classes);
      out.dispose();
      opts.onBatch?.(s + m, n);
    }
    return { values: values ?? new Float32Array(0), classes, lastDim, createMs, runMs: performance.now() - t1 };
  } finally {
    if (!opts.cache) await session.release();
  }
}
