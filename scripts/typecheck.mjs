#!/usr/bin/env node
// `pnpm typecheck`: every library package's sources, tests and scripts in one TypeScript program
// (tsconfig.check.json: each file checked once, strict as the sources), then each app's own
// tsconfig through turbo. Runs both and fails if either fails.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const turbo = require.resolve('turbo/bin/turbo');

const packages = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.check.json')], { stdio: 'inherit', cwd: root });
const apps = spawnSync(process.execPath, [turbo, 'run', 'typecheck', '--filter=./apps/*'], { stdio: 'inherit', cwd: root });
console.log(`typecheck: packages ${packages.status === 0 ? 'ok' : 'FAILED'}, apps ${apps.status === 0 ? 'ok' : 'FAILED'}`);
process.exit(packages.status === 0 && apps.status === 0 ? 0 : 1);
