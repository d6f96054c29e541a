/**
 * `pnpm bench <suite> [args]`: one file per suite in src/suites/ exporting `run(args)`; each
 * measures Whittle against onnxruntime-node in the same run and prints medians and ratios.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hugePageEnv } from 'whittle/bin/huge_pages.mjs';

// Measure under the process set-up the `whittle` command runs with (malloc on transparent huge
// pages where available); the peers measured in the same process get it too.
const relaunch = hugePageEnv();
if (relaunch) {
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: relaunch });
  process.exit(r.status ?? 1);
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const suites = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2).filter((a) => a !== '--');
if (!name || !suites.includes(name)) {
  console.error(`${name ? `unknown benchmark '${name}'` : 'no benchmark named'}; available: ${suites.join(', ')}`);
  process.exit(2);
}
const suite = (await import(join(dir, `${name}.ts`))) as { run(args: string[]): Promise<void> };
await suite.run(args);
