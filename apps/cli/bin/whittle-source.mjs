#!/usr/bin/env node
// Development entry (not shipped): runs the CLI's TypeScript sources through tsx with the
// workspace's source condition, so tests see the current sources without a build. Forwards
// arguments, stdio, the exit code and termination signals: a caller that stops this process (a
// test's spawn timeout) stops the CLI too, instead of leaving it running without a parent. Sets
// the huge-page malloc tunable as bin/whittle.mjs does.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hugePageEnv } from './huge_pages.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');
const child = spawn(process.execPath, ['--conditions=@whittle/source', '--import', tsx, join(here, '..', 'src', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit', env: hugePageEnv() ?? process.env });
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
