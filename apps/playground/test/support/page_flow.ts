/** Steps and reads on the playground page shared by the e2e tests. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS } from './build_app.js';

/** Mark status lines stale, so a following {@link waitOk} waits for news rather than an old 'ok'. */
export async function markStale(page: Page, ...selectors: string[]): Promise<void> {
  for (const s of selectors) await page.$eval(s, (el) => el.setAttribute('data-kind', 'stale'));
}

/** Wait until a status line (#run-status, #eval-status, #model-status) reports ok; fail on error. */
export async function waitOk(page: Page, selector: string, timeout = 240_000): Promise<string> {
  const handle = await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    const kind = el?.getAttribute('data-kind');
    return kind === 'ok' || kind === 'error' ? { kind, text: el!.textContent ?? '' } : null;
  }, selector, { timeout, polling: 100 });
  const r = (await handle.jsonValue()) as { kind: string; text: string };
  if (r.kind !== 'ok') throw new Error(`${selector} reports an error: ${r.text}`);
  return r.text;
}

/** Wait for the page to finish its start-up probe, then load the MNIST demo and its first evaluation. */
export async function loadDemo(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready=true]', { timeout: 120_000 });
  await markStale(page, '#model-status', '#eval-status');
  await page.click('#load-demo');
  await waitOk(page, '#model-status');
  await waitOk(page, '#eval-status');
}

/** The exact numbers of a results-table row (`data-value` of each metric cell). */
export async function rowValues(page: Page, variant: string): Promise<Record<string, number>> {
  return page.$$eval(`#results tr[data-variant="${variant}"] td[data-metric]`, (tds) =>
    Object.fromEntries(tds.filter((td) => td.hasAttribute('data-value')).map((td) => [td.getAttribute('data-metric')!, Number(td.getAttribute('data-value'))])),
  );
}

/** Names of the variants in the results table, in order. */
export function variantNames(page: Page): Promise<string[]> {
  return page.$$eval('#results tbody tr', (rows) => rows.map((r) => r.getAttribute('data-variant')!));
}

/** Click a download button; resolves to the file's bytes and its suggested name (saved as an artifact). */
export async function downloadFrom(page: Page, button: string, artifactPrefix: string): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  mkdirSync(ARTIFACTS, { recursive: true });
  const name = dl.suggestedFilename();
  const path = join(ARTIFACTS, `${artifactPrefix}-${name}`);
  await dl.saveAs(path);
  return { name, bytes: readFileSync(path) };
}

/** A full-page screenshot in test-artifacts/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Requests that left the page's origin (blob: URLs of the same origin and data: URLs stay local). */
export function foreignRequests(requests: readonly string[], origin: string): string[] {
  return requests.filter((u) => {
    if (u.startsWith('data:')) return false;
    const url = new URL(u);
    return url.protocol === 'blob:' ? new URL(url.pathname).origin !== origin : url.origin !== origin;
  });
}
