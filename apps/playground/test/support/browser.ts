/**
 * Debian's headless chromium driven by playwright-core, with DESIGN.md's flags and a fresh
 * profile. Every request of the page and its workers is recorded, so a test can assert the page
 * talks to nobody but its own origin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'];

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Every URL requested (page, workers, fetches), in order. */
  requests: string[];
  /** console.error lines and uncaught page errors. */
  errors: string[];
  close(): Promise<void>;
}

/** Fail loudly when chromium is missing: CI installs it, a silent skip would hide a broken suite. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH; the playground e2e tests need it`);
}

/** Launch chromium (WebGPU on SwiftShader when `webgpu`), open a page, record requests and errors. */
export async function openBrowser(opts: { webgpu: boolean }): Promise<Session> {
  requireChromium();
  const profile = mkdtempSync(join(tmpdir(), 'whittle-chromium-'));
  // a persistent context is how playwright takes a --user-data-dir: a fresh one per session
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...(opts.webgpu ? WEBGPU_FLAGS : [])],
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => void (m.type() === 'error' && errors.push(`[worker] ${m.text()}`))));
  return {
    context,
    page,
    requests,
    errors,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
