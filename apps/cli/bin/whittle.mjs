#!/usr/bin/env node
// The `whittle` command: runs the built JavaScript in this process (`pnpm build` makes dist/).
// `whittle --help` prints the help text the build captured from this same dist/ (it would
// otherwise load every technique package only to list them). Workspace tests run the TypeScript
// sources instead, through bin/whittle-source.mjs. On Linux, given large model files, the command
// first re-launches itself with malloc backed by transparent huge pages (see huge_pages.mjs).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hugePageEnv, namesLargeFiles } from './huge_pages.mjs';

const args = process.argv.slice(2);
const relaunch = namesLargeFiles(args) ? hugePageEnv() : undefined;
const help = new URL('../dist/help.txt', import.meta.url);
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h') && existsSync(help)) {
  process.stdout.write(readFileSync(help));
} else if (relaunch) {
  // the same command in a child with the tunable set; its exit code, or its signal, is ours
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env: relaunch });
  const forward = (sig) => child.kill(sig);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, forward);
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.off(sig, forward);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else {
  const main = new URL('../dist/main.js', import.meta.url);
  if (!existsSync(main)) {
    process.stderr.write('whittle: dist/main.js is missing: run `pnpm build` in the Whittle workspace (or `pnpm --filter whittle... build`)\n');
    process.exit(1);
  }
  await import(main.href);
}
