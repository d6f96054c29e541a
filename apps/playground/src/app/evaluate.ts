import { batchSizeFor } from '../data/mnist_dataset.js';
import type { AppContext } from './context.js';
import type { JobRunner } from './worker_client.js';

/**
 * Evaluate every variant that has no measurements on the selected data (all of them when the
 * data changed or `all` is set). The original's outputs are kept as the fidelity reference, so
 * a new variant costs one onnxruntime-web pass over the data.
 */
export async function evaluatePending(ctx: AppContext, onProgress?: (f: number, m?: string) => void, all = false, jobs: JobRunner = ctx.client.session()): Promise<void> {
  const { store } = ctx;
  const s = store.state;
  const data = await ctx.evalSource.current();
  if (all || s.evalData?.key !== data.key) {
    for (const v of s.variants) delete v.eval;
    delete s.reference;
  }
  s.evalData = data;
  const original = s.variants[0];
  if (!original) return;
  const haveReference = s.reference?.key === data.key;
  const todo = s.variants.filter((v, i) => !v.eval && (i > 0 || !haveReference));
  if (!haveReference && todo[0] !== original) todo.unshift(original);
  if (!todo.length) return;
  const r = await jobs.run(
    { kind: 'evaluate', variants: todo.map((v) => ({ name: v.name, bytes: v.bytes, size: v.analysis.size, gzipMethod: v.analysis.fileGzipMethod })), data: data.dataset, batchSize: batchSizeFor(s.model?.analysis.inputs ?? []), ort: s.ortChoice, ...(haveReference ? { reference: s.reference!.values } : {}) },
    onProgress,
  );
  if (!haveReference) s.reference = { key: data.key, values: r.reference };
  for (const res of r.results) {
    const v = s.variants.find((x) => x.name === res.name);
    if (v) v.eval = res;
  }
  s.runtime = r.runtime;
  store.emit('evaluation');
}
