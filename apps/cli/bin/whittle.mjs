#!/usr/bin/env node
// The `whittle` command: runs the built JavaScript in this process (`pnpm build` makes dist/).
// `whittle --help` prints the help text the build captured from this same dist/ (it would
// otherwise load every technique package only to list them). Workspace tests run the TypeScript
// sources instead, through bin/whittle-source.mjs.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const help = new URL('../dist/help.txt', import.meta.url);
if (args.length === 1 && (args[0] === '--help' || args[0] === '-h') && existsSync(help)) {
  process.stdout.write(readFileSync(help));
} else {
  const main = new URL('../dist/main.js', import.meta.url);
  if (!existsSync(main)) {
    process.stderr.write('whittle: dist/main.js is missing: run `pnpm build` in the Whittle workspace (or `pnpm --filter whittle... build`)\n');
    process.exit(1);
  }
  await import(main.href);
}
