#!/usr/bin/env node
// Changesets the release tooling can read: every package a changeset names is a workspace
// package, and none mixes packages `.changeset/config.json` ignores with published ones
// (`changeset version` refuses both, and then releases nothing).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const names = new Set();
for (const dir of ['packages', 'apps']) {
  for (const p of readdirSync(join(root, dir))) {
    const f = join(root, dir, p, 'package.json');
    if (existsSync(f)) names.add(JSON.parse(readFileSync(f, 'utf8')).name);
  }
}
const ignored = new Set(JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')).ignore ?? []);
const problems = [];
const files = readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
for (const f of files) {
  const m = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(root, '.changeset', f), 'utf8'));
  if (!m) {
    problems.push(`${f}: no front matter (--- "package": patch ---)`);
    continue;
  }
  const pkgs = m[1].split('\n').filter((l) => l.trim()).map((l) => /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch)\s*$/.exec(l));
  if (pkgs.some((p) => !p)) problems.push(`${f}: a line of the front matter is not "package": major|minor|patch`);
  const named = pkgs.filter(Boolean).map((p) => p[1]);
  for (const n of named) if (!names.has(n)) problems.push(`${f}: '${n}' is not a workspace package (${[...names].join(', ')})`);
  if (named.some((n) => ignored.has(n)) && named.some((n) => !ignored.has(n))) problems.push(`${f}: mixes ignored (${named.filter((n) => ignored.has(n)).join(', ')}) and published packages; write one changeset for each`);
}
if (problems.length) {
  console.error(`changesets: ${problems.length} problem(s)\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`changesets: ok (${files.length} files)`);
