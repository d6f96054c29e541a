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
  download: { name: string; bytes: Buffer };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

/** Run the flow on an opened page (already at the app's URL) with the model file at `path` (plus external data files). */
export async function scaleFlow(page: Page, paths: string[], opts: { samples: number; artifactPrefix: string; timeout?: number }): Promise<ScaleRun> {
  const timeout = opts.timeout ?? 240_000;
  await page.waitForSelector('body[data-ready=true]', { timeout: 120_000 });
  await markStale(page, '#model-status', '#eval-status');
  const [, open] = await timed(async () => {
    await page.setInputFiles('#model-file', paths);
    await waitOk(page, '#model-status', timeout);
  });
  const [, firstEvaluation] = await timed(() => waitOk(page, '#eval-status', timeout));
  const kind = await page.getAttribute('#model-facts [data-fact="kind"]', 'data-value');
  const preset = await page.$eval('#preset', (s) => (s as HTMLSelectElement).value);
  const presetLabel = await page.$eval('#preset', (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
  await page.fill('#sample-count', String(opts.samples));

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
  return {
    times: { open, firstEvaluation, compress, evaluate, download: downloadMs },
    kind,
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
    download,
  };
}
