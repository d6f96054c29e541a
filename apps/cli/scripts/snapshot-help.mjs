#!/usr/bin/env node
// Build step: runs the built CLI's `--help` once and keeps its text in dist/help.txt, so
// `whittle --help` prints it without loading every technique package (bin/whittle.mjs). The
// snapshot is made from the same dist/ it ships with, so it cannot go stale.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const r = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });
if (r.status !== 0 || !r.stdout.includes('Usage: whittle')) {
  console.error(`snapshot-help: \`whittle --help\` failed (exit ${r.status}):\n${r.stderr}`);
  process.exit(1);
}
writeFileSync(fileURLToPath(new URL('../dist/help.txt', import.meta.url)), r.stdout);
console.log('snapshot-help: dist/help.txt');
