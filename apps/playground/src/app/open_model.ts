import type { DemoAssets } from '../data/demo.js';
import { byId, setStatus } from '../ui/dom.js';
import { formatBytes } from '../ui/format.js';
import type { AppContext } from './context.js';
import { evaluatePending } from './evaluate.js';
import { JobError, type JobRunner } from './worker_client.js';
import type { ModelAnalysis } from '../worker/protocol.js';
import { evaluationStatus } from './eval_status.js';

type Loaded = { name: string; bytes: Uint8Array; analysis: ModelAnalysis; note?: string };

/** Make a loaded model the original variant and evaluate it. */
async function openWith(ctx: AppContext, label: string, size: number, load: (jobs: JobRunner, onProgress: (f: number, m?: string) => void) => Promise<Loaded>, demo?: DemoAssets): Promise<void> {
  const { store } = ctx;
  const jobs = ctx.client.session();
  const s = store.state;
  const status = byId('model-status');
  s.busy = true;
  store.emit('busy');
  setStatus(status, `Reading ${label} (${formatBytes(size)})…`);
  setStatus(byId('eval-status'), ''); // results of the previous model are about to go
  const t0 = performance.now();
  try {
    const { name, bytes, analysis, note } = await load(jobs, (f, m) => setStatus(status, `Opening ${label}: ${Math.round(f * 100)} %${m ? ` (${m})` : ''}`));
    s.model = { name, bytes, analysis, ...(demo ? { demo } : {}) };
    s.variants = [{ name, technique: 'original', bytes, analysis }];
    s.selected = 0;
    delete s.sensitivity;
    delete s.reference;
    delete s.evalData;
    ctx.evalSource.refresh();
    store.emit('model', 'variants', 'sensitivity', 'evaluation');
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    setStatus(status, `Loaded ${label}: ${analysis.nodes} nodes, ${analysis.parameters} parameters, ${formatBytes(bytes.length)}${note ? ` (${note})` : ''} in ${secs} s.`, 'ok');
  } catch (e) {
    if (e instanceof JobError && e.cancelled) setStatus(status, `Opening ${label} was cancelled.`);
    else setStatus(status, `Could not open ${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, 'error');
    return;
  } finally {
    s.busy = false;
    store.emit('busy');
  }
  await evaluateWithStatus(ctx);
}

/** Open model bytes already in the page (the demo): analyze them in the worker. */
export async function openModel(ctx: AppContext, bytes: Uint8Array, fileName: string, demo?: DemoAssets): Promise<void> {
  const name = fileName.replace(/\.onnx$/i, '');
  await openWith(ctx, fileName, bytes.length, async (jobs, p) => ({ name, bytes, analysis: await jobs.run({ kind: 'analyze', model: bytes }, p) }), demo);
}

/**
 * Open picked or dropped files: the worker reads and parses them (one .onnx, plus its external
 * data files), so the page stays responsive for 100 MB+ models.
 */
export async function openFiles(ctx: AppContext, files: File[]): Promise<void> {
  const onnx = files.find((f) => /\.onnx$/i.test(f.name));
  const label = onnx ? onnx.name : files.map((f) => f.name).join(', ');
  const size = files.reduce((a, f) => a + f.size, 0);
  await openWith(ctx, label, size, async (jobs, p) => {
    const r = await jobs.run({ kind: 'load', files }, p);
    return { name: r.name, bytes: r.bytes, analysis: r.analysis, ...(r.externalFiles.length ? { note: `external data inlined from ${r.externalFiles.join(', ')}` } : {}) };
  });
}

/** Evaluate pending variants, reporting progress and errors in the evaluate section. */
export async function evaluateWithStatus(ctx: AppContext, all = false): Promise<void> {
  const { store } = ctx;
  const status = byId('eval-status');
  store.state.busy = true;
  store.emit('busy');
  try {
    await evaluatePending(ctx, (f, m) => setStatus(status, `Evaluating: ${Math.round(f * 100)} %${m ? ` (${m})` : ''}`), all);
    const st = evaluationStatus(store.state.variants, store.state.evalData, store.state.runtime);
    setStatus(status, st.text, st.kind);
  } catch (e) {
    const cancelled = e instanceof JobError && e.cancelled;
    setStatus(status, cancelled ? 'Evaluation cancelled.' : `Evaluation failed: ${e instanceof Error ? e.message : String(e)}`, cancelled ? 'info' : 'error');
  } finally {
    store.state.busy = false;
    store.emit('busy');
  }
}
