#!/usr/bin/env node
// `pnpm lint`, first half: the import arrows of docs/design.md (scripts/layers.mjs), which
// workspace package may import which, both in each package.json's dependencies and in every
// import line of its src/ files. Also checks that library sources use no `node:` modules outside
// their node-only entry (src/node.ts, src/node/**). scripts/check-structure.mjs checks circles and
// the arrows again on resolved imports.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ALLOWED, DESIGN } from './layers.mjs';

const root = new URL('..', import.meta.url).pathname;
const allowed = ALLOWED;
const libraries = Object.keys(allowed).filter((p) => p !== 'testing');
const problems = [];

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(e)) out.push(p);
  }
  return out;
}

const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

for (const [pkg, may] of Object.entries(allowed)) {
  const dir = join(root, 'packages', pkg);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const m = /^@whittle\/(.+)$/.exec(dep);
    if (m && !may.includes(m[1])) problems.push(`packages/${pkg}/package.json depends on ${dep}, which ${DESIGN} does not allow`);
  }
  const src = join(dir, 'src');
  if (!existsSync(src)) continue;
  for (const file of walk(src)) {
    if (/\.test\.ts$/.test(file)) continue;
    const rel = relative(root, file);
    const text = readFileSync(file, 'utf8');
    const nodeOnly = /[\\/]src[\\/]node(\.ts|[\\/])/.test(file);
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const w = /^@whittle\/([^/]+)/.exec(spec);
      if (w && w[1] !== pkg && !may.includes(w[1])) problems.push(`${rel} imports ${spec}: ${pkg} may import only ${may.join(', ') || 'nothing'}`);
      if (w && /\/dist(\/|$)/.test(spec)) problems.push(`${rel} deep-imports ${spec}`);
      if (libraries.includes(pkg) && !nodeOnly && (spec.startsWith('node:') || ['fs', 'path', 'os', 'child_process', 'worker_threads'].includes(spec))) {
        problems.push(`${rel} imports ${spec}: library cores must stay browser-safe (use the node-only entry src/node.ts)`);
      }
    }
  }
}

// Nothing may import an app.
for (const file of walk(join(root, 'packages'))) {
  if (file.includes('node_modules')) continue;
  const text = readFileSync(file, 'utf8');
  if (/from\s*['"](whittle|@whittle\/(cli|playground|bench))['"]/.test(text)) problems.push(`${relative(root, file)} imports an app`);
}

if (problems.length) {
  console.error(`import boundaries: ${problems.length} problem(s) (see ${DESIGN})\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('import boundaries: ok');
