#!/usr/bin/env node
// The one test command (README, .ci/run): import-boundary, structure and changeset checks (`pnpm lint`), build (turbo: every package's
// dist and every app), typecheck (sources and tests), the pack test (tests/pack/run.mjs: the
// published tarballs installed offline into a fresh project and used from Node, a Vite bundle in
// Chromium and the packed CLI), then every package's vitest suite in one run; ends with the line
// `N passed, M failed` summed over all packages, where each failed check (boundaries, structure,
// changesets, build, typecheck, pack) counts as one failure. `--no-build` skips build, typecheck and the pack test
// (tests run from the TypeScript sources and do not need a build).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const noBuild = process.argv.includes('--no-build');
const extra = process.argv.slice(2).filter((a) => a !== '--no-build');

function check(name, command, args) {
  const t0 = Date.now();
  console.log(`\n== ${name}: ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit', cwd: root, env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
  const ok = r.status === 0;
  console.log(`== ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return ok;
}

const failedNames = [];
if (!check('boundaries', process.execPath, [join(root, 'scripts/check-boundaries.mjs')])) failedNames.push('boundaries');
if (!check('structure', process.execPath, [join(root, 'scripts/check-structure.mjs')])) failedNames.push('structure');
if (!check('changesets', process.execPath, [join(root, 'scripts/check-changesets.mjs')])) failedNames.push('changesets');
if (!noBuild) {
  if (!check('build', 'pnpm', ['run', 'build'])) failedNames.push('build');
  if (!check('typecheck', 'pnpm', ['run', 'typecheck'])) failedNames.push('typecheck');
  // needs the build; runs even when typecheck failed (it checks the packages, not the tests)
  if (!failedNames.includes('build') && !check('pack', process.execPath, [join(root, 'tests/pack/run.mjs')])) failedNames.push('pack');
}
let failedChecks = failedNames.length;

const out = join(mkdtempSync(join(tmpdir(), 'whittle-tests-')), 'results.json');
const vitest = join(root, 'node_modules/vitest/vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
});

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests ?? 0;
  // suites that failed outside any test (import or hook errors) count as one failure each
  const brokenSuites = (r.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = (r.numFailedTests ?? 0) + brokenSuites;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
} else {
  failed = 1;
}
failed += failedChecks;
if (run.status !== 0 && failed === 0) failed = 1; // vitest failed outside any test (config, import)
if (failedNames.length) console.log(`failed checks: ${failedNames.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && run.status === 0 ? 0 : 1);
