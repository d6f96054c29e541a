import { SingleBar, Presets } from 'cli-progress';

/** Progress sink of a command: a bar with ETA on a terminal, plain throttled lines otherwise. */
export interface Progress {
  update(fraction: number, message?: string): void;
  stop(): void;
}

/** 75 s → "1m15s". */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * "(2m10s elapsed, ~5m30s left)" once enough has passed to extrapolate (a long scan piped to a
 * log shows how long it will take, as the terminal bar's ETA does); empty before that.
 */
export function timeNote(fraction: number, elapsedSeconds: number): string {
  if (elapsedSeconds < 5 || fraction < 0.01 || fraction >= 1) return '';
  return ` (${duration(elapsedSeconds)} elapsed, ~${duration((elapsedSeconds * (1 - fraction)) / fraction)} left)`;
}

/**
 * Progress to stderr; `quiet` (e.g. --json) prints nothing. Without a terminal, one line per 10 %
 * or per new step, with the time elapsed and an estimate of the time left.
 */
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
  const t0 = performance.now();
  return {
    update(f, m) {
      const pct = Math.floor(Math.min(1, Math.max(0, f)) * 10) * 10;
      const head = (m ?? '').split(':')[0] ?? '';
      // at the start every message shows (what a scan will cost); then one per 10 % or new step
      if (pct === last && head === lastMsg && !(f <= 0 && m)) return;
      last = pct;
      lastMsg = head;
      const f01 = Math.min(1, Math.max(0, f));
      process.stderr.write(`${label}: ${pct}%${m ? ` ${m}` : ''}${timeNote(f01, (performance.now() - t0) / 1000)}\n`);
    },
    stop() {},
  };
}
