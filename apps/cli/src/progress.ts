import { SingleBar, Presets } from 'cli-progress';

/** Progress sink of a command: a bar with ETA on a terminal, plain throttled lines otherwise. */
export interface Progress {
  update(fraction: number, message?: string): void;
  stop(): void;
}

/** Progress to stderr; `quiet` (e.g. --json) prints nothing. */
export function createProgress(label: string, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | ETA {eta_formatted} | {msg}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 }, Presets.shades_classic);
    bar.start(1000, 0, { msg: '' });
    return {
      update: (f, m) => bar.update(Math.round(Math.min(1, Math.max(0, f)) * 1000), { msg: m ?? '' }),
      stop: () => bar.stop(),
    };
  }
  let last = -1;
  let lastMsg = '';
  return {
    update(f, m) {
      const pct = Math.floor(Math.min(1, Math.max(0, f)) * 10) * 10;
      const head = (m ?? '').split(':')[0] ?? '';
      if (pct === last && head === lastMsg) return;
      last = pct;
      lastMsg = head;
      process.stderr.write(`${label}: ${pct}%${m ? ` ${m}` : ''}\n`);
    },
    stop() {},
  };
}
