/** Build the app once per test process with Vite's JS API (the same config `pnpm build` uses). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const APP_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(APP_ROOT, 'test-artifacts');

let built: Promise<string> | undefined;

/** Production build into dist/; resolves to its path. */
export function buildApp(): Promise<string> {
  built ??= (async () => {
    const outDir = join(APP_ROOT, 'dist');
    await build({ configFile: join(APP_ROOT, 'vite.config.ts'), root: APP_ROOT, mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    return outDir;
  })();
  return built;
}
