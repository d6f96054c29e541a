#!/usr/bin/env node
// `pnpm lint`, second half: dependency-cruiser (scripts/structure.config.mjs) on every package's
// src/ — no import circles inside a package (except scripts/structure.config.mjs KNOWN_CIRCLES,
// each with its reason) and no package-level back-arrows. Runs dependency-cruiser's API, which
// works on Node 20 (its CLI asks for Node 22).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cruise } from 'dependency-cruiser';
import { DESIGN } from './layers.mjs';
import { KNOWN_CIRCLES, forbidden, options } from './structure.config.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const dirs = readdirSync(join(root, 'packages')).map((p) => `packages/${p}/src`).filter((p) => existsSync(p));
const t0 = Date.now();
const result = await cruise(dirs, { ...options, validate: true, ruleSet: { forbidden } });
const violations = result.output.summary.violations;

const problems = [];
const allowed = [];
for (const v of violations) {
  if (v.rule.name === 'no-circular') {
    const cycle = (v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name));
    const mods = [v.from, ...cycle];
    const known = KNOWN_CIRCLES.find((k) => mods.every((m) => k.modules.includes(m)));
    const text = `import circle ${mods.join(' → ')}`;
    if (known) allowed.push(`${text} (allowed: ${known.reason})`);
    else problems.push(`${text}: break it by moving the shared piece into its own file`);
  } else {
    const rule = forbidden.find((r) => r.name === v.rule.name);
    problems.push(`${v.from} imports ${v.to}: ${rule?.comment ?? v.rule.name}`);
  }
}
const seconds = ((Date.now() - t0) / 1000).toFixed(1);
const unique = (xs) => [...new Set(xs)];
if (allowed.length) console.log(`structure: ${unique(allowed).length} known circle(s)\n- ${unique(allowed).join('\n- ')}`);
if (problems.length) {
  console.error(`structure: ${unique(problems).length} problem(s) (see ${DESIGN})\n- ${unique(problems).join('\n- ')}`);
  process.exit(1);
}
console.log(`structure: ok (${result.output.summary.totalCruised} modules, ${seconds} s)`);
