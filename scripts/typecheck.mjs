#!/usr/bin/env node
// `pnpm typecheck`: every library package's sources, tests and scripts in one TypeScript program
// (tsconfig.check.json: each file checked once, strict as the sources), then each app's own
// tsconfig through turbo. Runs both at once (the library program is one single-threaded tsc, so
// on 2 cores the apps' checks fit beside it) and fails if either fails.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const turbo = require.resolve('turbo/bin/turbo');

const run = (args) => new Promise((resolve) => spawn(process.execPath, args, { stdio: 'inherit', cwd: root }).on('close', (status) => resolve({ status })));
const [packages, apps] = await Promise.all([
  run([tsc, '-p', join(root, 'tsconfig.check.json')]),
  run([turbo, 'run', 'typecheck', '--filter=./apps/*', '--output-logs=errors-only']),
]);
console.log(`typecheck: packages ${packages.status === 0 ? 'ok' : 'FAILED'}, apps ${apps.status === 0 ? 'ok' : 'FAILED'}`);
process.exit(packages.status === 0 && apps.status === 0 ? 0 : 1);
