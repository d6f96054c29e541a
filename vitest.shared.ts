// Shared vitest settings: resolve workspace packages to their TypeScript sources so tests
// never depend on a prior build.
//
// Every `@whittle/<pkg>[/<entry>]` specifier is aliased to its source file, read from the
// package's `exports` (the `@whittle/source` target, or the only target of the private
// @whittle/testing). Tests may therefore import a workspace package that their package does not
// declare: that is how graph/onnx/tensor/eval tests use @whittle/testing (and graph tests use
// @whittle/onnx) without a dependency back-arrow that would make the package graph cyclic.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

type ExportTarget = string | { [condition: string]: ExportTarget };

function sourceTarget(t: ExportTarget): string | undefined {
  if (typeof t === 'string') return t;
  return t['@whittle/source'] !== undefined ? sourceTarget(t['@whittle/source']) : t.default !== undefined ? sourceTarget(t.default) : undefined;
}

function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const dir of readdirSync(packagesDir)) {
    const manifestPath = join(packagesDir, dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string; exports?: Record<string, ExportTarget> };
    for (const [sub, target] of Object.entries(manifest.exports ?? {})) {
      const file = sourceTarget(target);
      if (!file || !file.endsWith('.ts')) continue;
      const specifier = sub === '.' ? manifest.name : `${manifest.name}/${sub.replace(/^\.\//, '')}`;
      aliases.push({ find: new RegExp(`^${specifier.replace(/[/.]/g, '\\$&')}$`), replacement: join(packagesDir, dir, file) });
    }
  }
  return aliases;
}

const alias = workspaceAliases();

export const sharedTestConfig = {
  resolve: { conditions: ['@whittle/source'], alias },
  ssr: { resolve: { conditions: ['@whittle/source'] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks' as const,
    // one module graph per worker instead of per file: importing the TypeScript sources anew
    // for every file cost more than half the suite's time; vitest.setup.ts resets shared state
    isolate: false,
    setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
    restoreMocks: true,
  },
};
