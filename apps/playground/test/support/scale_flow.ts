/**
 * One page session on a big model, as a user would go through it, timing each step: open the
 * file (parsed in the worker), the first evaluation, the default preset's compress & evaluate
 * (expanding the layer table while it runs, to show the page stays interactive), a re-evaluation
 * and the download. Shared by the scale e2e test and `pnpm bench playground`.
 */
import type { Page } from 'playwright-core';
import { downloadFrom, markStale, rowValues, variantNames, waitOk } from './page_flow.js';

export interface ScaleRun {
  /** Milliseconds per step. */
  times: { open: number; firstEvaluation: number; compress: number; evaluate: number; download: number };
  /** What the page showed. */
  kind: string | null;
  /** What the model status line said once open. */
  openStatus: string;
  /** Random samples evaluated. */
  samples: number;
  preset: string;
  presetLabel: string;
  variant: string;
  /** Layer rows of the table, and whether it was expanded while the compress job was still running. */
  layerRows: number;
  expandedWhileBusy: boolean;
  /** Round trip of a page.evaluate while compressing (ms): the main thread's responsiveness. */
  busyRoundTripMs: number;
  sizes: { original: number; compressed: number };
  fidelity: { top1Agreement: number; cosine: number };
  runLog: string[];
  memory: string;
  /** The line naming the onnxruntime-web execution provider of the forward passes, and the provider. */
  ortRuntime: { ep: string | null; text: string };
  download: { name: string; bytes: Buffer };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

/** Run the flow on an opened page (already at the app's URL) with the model file at `path` (plus external data files). */
export async function scaleFlow(page: Page, paths: string[], opts: { samples?: number; artifactPrefix: string; timeout?: number }): Promise<ScaleRun> {
  const timeout = opts.timeout ?? 240_000;
  await page.waitForSelector('body[data-ready=true]', { timeout: 120_000 });
  await markStale(page, '#model-status', '#eval-status');
  const [openStatus, open] = await timed(async () => {
    await page.setInputFiles('#model-file', paths);
    return waitOk(page, '#model-status', timeout);
  });
  const [, firstEvaluation] = await timed(() => waitOk(page, '#eval-status', timeout));
  const kind = await page.getAttribute('#model-facts [data-fact="kind"]', 'data-value');
  const preset = await page.$eval('#preset', (s) => (s as HTMLSelectElement).value);
  const presetLabel = await page.$eval('#preset', (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
  // the page picks a small random-sample count for big models; changing it re-evaluates the original
  if (opts.samples) await page.fill('#sample-count', String(opts.samples));
  const samples = Number(await page.inputValue('#sample-count'));

  await markStale(page, '#run-status');
  const [[expandedWhileBusy, busyRoundTripMs], compress] = await timed(async () => {
    await page.click('#run');
    await page.waitForSelector('body[data-busy=true]', { timeout: 10_000 });
    // the page answers and a collapsed table expands while the worker compresses
    const t0 = performance.now();
    await page.evaluate(() => document.body.dataset['busy']);
    const rt = performance.now() - t0;
    await page.click('#layers-summary');
    const state = await page.evaluate(() => ({ open: (document.getElementById('layers-details') as HTMLDetailsElement).open, busy: document.body.dataset['busy'] === 'true' }));
    await waitOk(page, '#run-status', timeout);
    return [state.open && state.busy, rt] as const;
  });
  const layerRows = await page.$$eval('#layer-table tbody tr', (r) => r.length);
  const [names] = [await variantNames(page)];
  const variant = names[names.length - 1]!;

  await markStale(page, '#eval-status');
  const [, evaluate] = await timed(async () => {
    await page.click('#evaluate');
    await waitOk(page, '#eval-status', timeout);
  });
  const row = await rowValues(page, variant);
  const orig = await rowValues(page, names[0]!);
  const [download, downloadMs] = await timed(() => downloadFrom(page, '#dl-model', opts.artifactPrefix));
  const runLog = await page.$$eval('#run-log li', (l) => l.map((x) => x.textContent ?? ''));
  const memory = (await page.textContent('#memory')) ?? '';
  const ortRuntime = { ep: await page.getAttribute('#ort-runtime', 'data-ep'), text: (await page.textContent('#ort-runtime')) ?? '' };
  return {
    times: { open, firstEvaluation, compress, evaluate, download: downloadMs },
    kind,
    openStatus,
    samples,
    preset,
    presetLabel,
    variant,
    layerRows,
    expandedWhileBusy,
    busyRoundTripMs,
    sizes: { original: orig.fileBytes!, compressed: row.fileBytes! },
    fidelity: { top1Agreement: row.top1Agreement!, cosine: row.cosine! },
    runLog,
    memory,
    ortRuntime,
    download,
  };
}

export interface SensitivityRun {
  /** The estimate the page showed before starting (s). */
  estimateSeconds: number | null;
  /** The first time-left the progress bar showed during the sensitivity phase (s). */
  firstEtaSeconds: number | null;
  /** Whole run (compress, sensitivity, evaluate) when completed, ms. */
  runMs?: number;
  /** From the Cancel click to the page saying 'Cancelled', ms (as playwright sees it). */
  cancelMs?: number;
  /** From the cancel request to the job stopping, ms (as the page measures it). */
  pageCancelMs?: number;
  caption?: string;
}

/** Compress again with per-layer sensitivity on: run it to the end, or cancel it once the sensitivity phase shows its time left. */
export async function sensitivityFlow(page: Page, opts: { cancel: boolean; timeout?: number }): Promise<SensitivityRun> {
  await page.check('#with-sensitivity');
  const est = await page.getAttribute('#sensitivity-plan', 'data-estimate');
  await markStale(page, '#run-status');
  const t0 = performance.now();
  await page.click('#run');
  const eta = await page.waitForFunction(
    () => {
      const bar = document.querySelector('#progress');
      return /sensitivity/.test(document.querySelector('#progress-text')?.textContent ?? '') && bar?.getAttribute('data-eta') ? Number(bar.getAttribute('data-eta')) : null;
    },
    null,
    { timeout: opts.timeout ?? 600_000, polling: 100 },
  );
  const firstEtaSeconds = (await eta.jsonValue()) as number;
  const base = { estimateSeconds: est === null ? null : Number(est), firstEtaSeconds };
  if (opts.cancel) {
    const c0 = performance.now();
    await page.click('#cancel');
    await page.waitForFunction(() => /^Cancelled/.test(document.querySelector('#run-status')?.textContent ?? ''), null, { timeout: 30_000, polling: 20 });
    return { ...base, cancelMs: performance.now() - c0, pageCancelMs: Number(await page.getAttribute('#run-status', 'data-cancel-ms')) };
  }
  await waitOk(page, '#run-status', opts.timeout ?? 600_000);
  return { ...base, runMs: performance.now() - t0, caption: (await page.textContent('#sensitivity-caption')) ?? '' };
}
