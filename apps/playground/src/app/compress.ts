import type { Recipe } from '@whittle/graph';
import { byId, setStatus } from '../ui/dom.js';
import { formatBytes } from '../ui/format.js';
import { phase, progress } from '../ui/progress.js';
import type { BackendChoice, BackendInfo } from '../worker/protocol.js';
import type { AppContext } from './context.js';
import { batchSizeFor } from '../data/mnist_dataset.js';
import { evaluatePending } from './evaluate.js';
import { planSensitivity } from './sensitivity_plan.js';
import { JobError } from './worker_client.js';
import { nothingChanged, pageHint } from './page_hint.js';

/** Options of a run besides the recipe. */
export interface RunOptions {
  seed: number;
  backend: BackendChoice;
  sensitivity: boolean;
}

const describeBackend = (b: BackendInfo): string => (b.name === 'webgpu' ? `webgpu (${b.adapter ?? 'adapter'})` : `cpu${b.note ? ` — ${b.note}` : ''}`);

/** 'prune-unstructured (sparsity 0.5) → quantize-weights (bits 8, …)'. */
export function describeRecipe(r: Recipe): string {
  return r.passes.map((s) => `${s.pass}${s.options && Object.keys(s.options).length ? ` (${Object.entries(s.options).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')})` : ''}`).join(' → ');
}

function variantName(ctx: AppContext, r: Recipe): string {
  const n = ctx.store.state.variants.length;
  const base = `r${n}-${r.name ?? r.passes.map((p) => p.pass).join('+')}`;
  let name = base;
  for (let k = 2; ctx.store.state.variants.some((v) => v.name === name); k++) name = `${base}-${k}`;
  return name;
}

/**
 * Compress & evaluate: run the recipe in the worker, analyze the result, measure per-layer
 * sensitivity of the original in onnxruntime-web (once per model, when asked), and evaluate the
 * new variant in onnxruntime-web.
 */
export async function compressAndEvaluate(ctx: AppContext, recipe: Recipe, o: RunOptions): Promise<void> {
  const { store } = ctx;
  const jobs = ctx.client.session();
  const s = store.state;
  const m = s.model;
  const status = byId('run-status');
  if (!m) return;
  s.busy = true;
  store.emit('busy');
  progress.reset();
  progress.clearLog();
  setStatus(status, 'Compressing…');
  try {
    const data = await ctx.evalSource.passData();
    const res = await jobs.run({ kind: 'compress', model: m.bytes, recipe, seed: o.seed, backend: o.backend, ...(data ? { data } : {}) }, phase(0, 0.55, 'compress'));
    progress.log(`passes ran on ${describeBackend(res.backend)} in ${(res.durationMs / 1000).toFixed(1)} s`, 'info', { 'data-backend': res.backend.name, 'data-role': 'pass-backend' });
    for (const st of res.steps) {
      progress.log(`step ${st.step + 1} ${st.pass}: ${st.summary}`);
      for (const w of st.warnings) progress.log(`warning: ${w}`, 'warn');
    }
    const unchanged = nothingChanged(res.steps);
    if (unchanged) {
      progress.set(1, 'nothing changed');
      setStatus(status, unchanged, 'error');
      return;
    }
    // a file larger than the one opened is no compression (the command line refuses to write it)
    if (res.bytes.length > m.bytes.length) {
      progress.set(1, 'not smaller');
      setStatus(status, `Not smaller: the result is ${formatBytes(res.bytes.length)}, the model opened ${formatBytes(m.bytes.length)} (${res.steps.map((st) => `${st.pass}: ${st.summary}`).join('; ')}); no variant added.`, 'error');
      return;
    }
    const analysis = await jobs.run({ kind: 'analyze', model: res.bytes }, phase(0.55, 0.65, 'analyze'));
    const name = variantName(ctx, recipe);
    s.variants.push({ name, technique: describeRecipe(recipe), bytes: res.bytes, analysis, recipe, steps: res.steps, backend: res.backend });
    s.selected = s.variants.length - 1;
    store.emit('variants');
    if (o.sensitivity && data && !s.sensitivity) {
      const plan = planSensitivity(m.analysis, s.variants[0]?.eval?.timing);
      try {
        s.sensitivity = await jobs.run(
          { kind: 'sensitivity', model: m.bytes, levels: plan.levels, samples: plan.samples, maxLayers: plan.maxLayers, batchSize: batchSizeFor(m.analysis.inputs, 16), data, ort: s.ortChoice },
          phase(0.65, 0.8, 'sensitivity'),
        );
        progress.log(`sensitivity measured in ${s.sensitivity.runtime}`, 'info', { 'data-backend': s.sensitivity.backend.name, 'data-role': 'sensitivity-backend' });
        store.emit('sensitivity');
      } catch (e) {
        // the compressed variant exists: a sensitivity the runtime cannot measure is a warning, not a failed run
        if (e instanceof JobError && e.cancelled) throw e;
        progress.log(`warning: per-layer sensitivity not measured: ${e instanceof Error ? e.message : String(e)}`, 'warn');
      }
    }
    await evaluatePending(ctx, phase(0.8, 1, 'evaluate'), false, jobs);
    progress.set(1, 'done');
    const v = s.variants.find((x) => x.name === name)!;
    setStatus(status, `Done: ${name}, ${formatBytes(res.bytes.length)} (was ${formatBytes(m.bytes.length)}).${v.eval?.error ? ` onnxruntime-web could not run it: ${v.eval.error}` : ''}`, v.eval?.error ? 'error' : 'ok');
  } catch (e) {
    if (e instanceof JobError && e.cancelled) {
      progress.set(0, 'cancelled');
      const ms = performance.now() - ctx.client.cancelledAt;
      status.dataset['cancelMs'] = ms.toFixed(0);
      setStatus(status, `Cancelled (stopped in ${(ms / 1000).toFixed(2)} s).`, 'info');
    } else setStatus(status, `Failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}${pageHint(e)}`, 'error');
  } finally {
    s.busy = false;
    store.emit('busy', 'evaluation');
  }
}
