/**
 * Multi-seed experiments (acceptance scripts): run one seed per child process, a few at a time,
 * so seeds train in parallel on several cores and each reports one JSON line.
 */
import { spawn } from 'node:child_process';

/** Options of {@link runSeeds}. */
export interface RunSeedsOptions<R> {
  /** The script to re-run as a worker (`fileURLToPath(import.meta.url)` of the caller). */
  script: string;
  /** Arguments for a worker of `seed` (the caller's own flags plus e.g. `--seeds <seed> --worker`). */
  workerArgs: (seed: number) => string[];
  /** At most this many workers at once; 1 runs `inProcess` instead of spawning. */
  jobs: number;
  /** The work of one seed in this process (used when `jobs` is 1). */
  inProcess: (seed: number) => Promise<R>;
  /** Called as each seed finishes, with the seconds since the start. */
  onSeed?: (seed: number, result: R, seconds: number) => void;
}

/**
 * A worker's arguments for `seed`: the parent's own arguments with any `--seeds <list>` replaced
 * by `--seeds <seed> --worker` (the convention of the acceptance scripts).
 */
export function seedWorkerArgs(argv: readonly string[], seed: number): string[] {
  const a = [...argv];
  const i = a.indexOf('--seeds');
  if (i >= 0) a.splice(i, 2);
  return [...a, '--seeds', String(seed), '--worker'];
}

/** Run `script` as a worker (same Node flags) and parse the last line it prints as JSON. */
export function runWorker<R>(script: string, args: readonly string[]): Promise<R> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker ${args.join(' ')} exited with ${code}`));
      try {
        resolve(JSON.parse(text.trim().split('\n').at(-1)!) as R);
      } catch (e) {
        reject(new Error(`worker ${args.join(' ')} printed no JSON result: ${(e as Error).message}`));
      }
    });
  });
}

/** Run every seed (in workers, `jobs` at a time) and return the results by seed. */
export async function runSeeds<R>(seeds: readonly number[], o: RunSeedsOptions<R>): Promise<Map<number, R>> {
  const results = new Map<number, R>();
  const queue = [...seeds];
  const t0 = performance.now();
  const lanes = Math.max(1, Math.min(o.jobs, seeds.length));
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      const r = o.jobs > 1 ? await runWorker<R>(o.script, o.workerArgs(s)) : await o.inProcess(s);
      results.set(s, r);
      o.onSeed?.(s, r, (performance.now() - t0) / 1000);
    }
  }));
  return results;
}

/** Mean and sample standard deviation. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd };
}
