/**
 * Conformance CLI: `node --conditions=@whittle/source --import tsx packages/testing/src/conformance/cli.ts
 * [--backend cpu|webgpu] [--filter REGEXP] [--all] [--write-allowlist] [--verbose]`.
 * Prints pass/fail/excluded counts; --all runs excluded cases too (reports entries that pass);
 * --write-allowlist rewrites the backend's allowlist with every failing case and its reason.
 */
import '@whittle/tensor/node';
import { writeFileSync } from 'node:fs';
import type { BackendName } from '@whittle/tensor';
import { loadAllowlist, runConformance, type Allowlist } from './runner.js';
import { allowlistPath, reasonFor } from './allowlist.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const backend = (opt('--backend') ?? 'cpu') as BackendName;
const filter = opt('--filter');
const path = allowlistPath(backend);
const allowlist = args.includes('--write-allowlist') ? undefined : loadAllowlist(path);
const t0 = performance.now();
const report = await runConformance({
  backend,
  ...(filter ? { filter: new RegExp(filter) } : {}),
  ...(allowlist ? { allowlist } : {}),
  runExcluded: args.includes('--all'),
  onCase: (r) => {
    if (args.includes('--verbose') || r.status === 'fail') console.log(`${r.status.padEnd(8)} ${r.name} ${r.reason ? '— ' + r.reason.slice(0, 300) : ''}`);
    if (r.passesAnyway) console.log(`PASSES   ${r.name} (allowlisted: ${r.reason})`);
  },
});
const { pass, fail, excluded, total } = report.counts;
console.log(`[${backend}] ${pass} passed, ${fail} failed, ${excluded} excluded of ${total} in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
if (args.includes('--write-allowlist')) {
  const old: Allowlist = (() => {
    try {
      return loadAllowlist(path);
    } catch {
      return { excluded: {} };
    }
  })();
  const excludedMap: Record<string, string> = {};
  for (const r of report.results) if (r.status === 'fail') excludedMap[r.name] = reasonFor(r, old.excluded[r.name]);
  const out: Allowlist = { ...old, excluded: excludedMap };
  writeFileSync(path, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${Object.keys(excludedMap).length} exclusions to ${path}`);
}
