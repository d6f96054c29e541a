#!/usr/bin/env node
// Development entry (not shipped): runs the CLI's TypeScript sources through tsx with the
// workspace's source condition, so tests see the current sources without a build. Forwards
// arguments, stdio and the exit code.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');
const r = spawnSync(process.execPath, ['--conditions=@whittle/source', '--import', tsx, join(here, '..', 'src', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
