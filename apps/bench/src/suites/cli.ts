/**
 * Suite `cli`: start-up of the built `whittle` command (apps/cli/bin/whittle.mjs running dist/),
 * wall-clock medians of fresh processes, side by side with `node -e 0` measured in the same run:
 * `whittle --help` and `whittle inspect <model>` on the demo's LeNet-300-100 (1.07 MB of
 * weights). Targets: ≤ 0.3 s and ≤ 0.6 s. `pnpm bench cli [--runs N]` (default 9); needs
 * `pnpm build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../cli/bin/whittle.mjs', import.meta.url));
const model = fileURLToPath(new URL('../../../cli/assets/lenet300100.onnx', import.meta.url));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// A user's environment: without the huge-page tunable this bench process was started with, so
// the command's own re-launch (bin/huge_pages.mjs) is part of what is timed.
const userEnv: NodeJS.ProcessEnv = { ...process.env };
const tunables = (process.env.GLIBC_TUNABLES ?? '').split(':').filter((t) => t && t !== 'glibc.malloc.hugetlb=1');
if (tunables.length) userEnv.GLIBC_TUNABLES = tunables.join(':');
else delete userEnv.GLIBC_TUNABLES;

function timeRun(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: userEnv });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`bench cli: \`node ${args.join(' ')}\` exited ${r.status}: ${r.stderr}`);
  return s;
}

/** Run the cli suite. */
export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 9;
  if (!existsSync(bin) || !existsSync(model)) throw new Error('bench cli: the CLI is not built (apps/cli/dist, apps/cli/assets): run `pnpm build` first');
  const cases: { name: string; args: string[]; target?: number }[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'whittle --help', args: [bin, '--help'], target: 0.3 },
    { name: `whittle inspect (${(statSync(model).size / 1e6).toFixed(2)} MB)`, args: [bin, 'inspect', model], target: 0.6 },
  ];
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < runs; r++) for (const c of cases) times.get(c.name)!.push(timeRun(c.args)); // interleaved: same load for all
  const base = median(times.get('node -e 0')!);
  console.log(`CLI start-up, medians of ${runs} fresh processes (wall clock)`);
  console.log(`${'command'.padEnd(32)}${'median s'.padStart(10)}${'- node s'.padStart(10)}${'target s'.padStart(10)}  verdict`);
  for (const c of cases) {
    const m = median(times.get(c.name)!);
    const verdict = c.target === undefined ? '' : m <= c.target ? 'ok' : 'over';
    console.log(`${c.name.padEnd(32)}${m.toFixed(3).padStart(10)}${(m - base).toFixed(3).padStart(10)}${(c.target?.toFixed(1) ?? '').padStart(10)}  ${verdict}`);
  }
}
