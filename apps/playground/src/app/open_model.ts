import type { DemoAssets } from '../data/demo.js';
import { byId, setStatus } from '../ui/dom.js';
import { formatBytes } from '../ui/format.js';
import type { AppContext } from './context.js';
import { evaluatePending } from './evaluate.js';
import { JobError } from './worker_client.js';

/** Open a model: analyze it in the worker, make it the original variant, evaluate it. */
export async function openModel(ctx: AppContext, bytes: Uint8Array, fileName: string, demo?: DemoAssets): Promise<void> {
  const { store } = ctx;
  const jobs = ctx.client.session();
  const s = store.state;
  const status = byId('model-status');
  const name = fileName.replace(/\.onnx$/i, '');
  s.busy = true;
  store.emit('busy');
  setStatus(status, `Reading ${fileName} (${formatBytes(bytes.length)})…`);
  setStatus(byId('eval-status'), ''); // results of the previous model are about to go
  try {
    const analysis = await jobs.run({ kind: 'analyze', model: bytes }, (f, m) => setStatus(status, `Analyzing ${fileName}: ${Math.round(f * 100)} %${m ? ` (${m})` : ''}`));
    s.model = { name, bytes, analysis, ...(demo ? { demo } : {}) };
    s.variants = [{ name, technique: 'original', bytes, analysis }];
    s.selected = 0;
    delete s.sensitivity;
    delete s.reference;
    delete s.evalData;
    ctx.evalSource.refresh();
    store.emit('model', 'variants', 'sensitivity', 'evaluation');
    setStatus(status, `Loaded ${fileName}: ${analysis.nodes} nodes, ${analysis.parameters} parameters, ${formatBytes(bytes.length)}.`, 'ok');
  } catch (e) {
    if (e instanceof JobError && e.cancelled) setStatus(status, `Opening ${fileName} was cancelled.`);
    else setStatus(status, `Could not open ${fileName}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, 'error');
    return;
  } finally {
    s.busy = false;
    store.emit('busy');
  }
  await evaluateWithStatus(ctx);
}

/** Evaluate pending variants, reporting progress and errors in the evaluate section. */
export async function evaluateWithStatus(ctx: AppContext, all = false): Promise<void> {
  const { store } = ctx;
  const status = byId('eval-status');
  store.state.busy = true;
  store.emit('busy');
  try {
    await evaluatePending(ctx, (f, m) => setStatus(status, `Evaluating: ${Math.round(f * 100)} %${m ? ` (${m})` : ''}`), all);
    const d = store.state.evalData;
    setStatus(status, d ? `Evaluated on ${d.label} (${d.info.count} samples) in ${store.state.runtime ?? 'onnxruntime-web'}.` : '', 'ok');
  } catch (e) {
    const cancelled = e instanceof JobError && e.cancelled;
    setStatus(status, cancelled ? 'Evaluation cancelled.' : `Evaluation failed: ${e instanceof Error ? e.message : String(e)}`, cancelled ? 'info' : 'error');
  } finally {
    store.state.busy = false;
    store.emit('busy');
  }
}
