/**
 * The LM corpus: the TypeScript compiler's declaration files `lib.*.d.ts` (shipped in the
 * `typescript` npm package, so offline and versioned by the lockfile). Split by file: the
 * {@link HELD_OUT_FILES} are held out, every other `lib.*.d.ts` trains.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The held-out files (about 2 % of the bytes): ES2015 core, ES2020 Intl and the decorators. */
export const HELD_OUT_FILES: readonly string[] = ['lib.decorators.d.ts', 'lib.es2015.core.d.ts', 'lib.es2020.intl.d.ts'];

/** The typescript package's lib folder and version. */
export function typescriptLib(): { dir: string; version: string } {
  const pkg = createRequire(import.meta.url).resolve('typescript/package.json');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return { dir: join(dirname(pkg), 'lib'), version };
}

/** One corpus document. */
export interface CorpusFile {
  name: string;
  text: string;
}

/** The corpus files in name order, split into train and held-out. */
export function lmCorpus(): { train: CorpusFile[]; heldOut: CorpusFile[]; typescriptVersion: string } {
  const { dir, version } = typescriptLib();
  const names = readdirSync(dir).filter((n) => /^lib\..*\.d\.ts$/.test(n)).sort();
  const read = (name: string): CorpusFile => ({ name, text: readFileSync(join(dir, name), 'utf8') });
  return {
    train: names.filter((n) => !HELD_OUT_FILES.includes(n)).map(read),
    heldOut: names.filter((n) => HELD_OUT_FILES.includes(n)).map(read),
    typescriptVersion: version,
  };
}
