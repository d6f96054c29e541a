/**
 * The app runs in the browser: its sources import no Node built-ins, no node-only library entry
 * (`@whittle/<pkg>/node`) and no onnxruntime-node. (Tests and build scripts may.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';
import { APP_ROOT } from './support/build_app.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(e) ? [p] : [];
  });
}

test('browser sources import nothing node-only', () => {
  const re = /(?:from\s*|import\s*\(?\s*)['"]([^'"]+)['"]/g;
  const bad: string[] = [];
  for (const f of files(join(APP_ROOT, 'src'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(re)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || /^@whittle\/[^/]+\/node$/.test(spec) || spec === 'onnxruntime-node' || spec === '@whittle/testing' || spec.startsWith('@whittle/testing/')) bad.push(`${relative(APP_ROOT, f)}: ${spec}`);
    }
  }
  expect(bad).toEqual([]);
});
