import { byId, h } from './dom.js';

/** '12 s', '3 min'. */
export function formatSeconds(s: number): string {
  return s < 90 ? `${Math.max(1, Math.round(s))} s` : `${Math.round(s / 60)} min`;
}

/** The run section's progress bar, its text and the log of what ran. */
export const progress = {
  set(fraction: number, message = '', etaSeconds?: number): void {
    const bar = byId<HTMLProgressElement>('progress');
    bar.value = Math.max(0, Math.min(1, fraction));
    bar.dataset['fraction'] = bar.value.toFixed(3);
    if (etaSeconds === undefined) delete bar.dataset['eta'];
    else bar.dataset['eta'] = etaSeconds.toFixed(1);
    byId('progress-text').textContent = `${Math.round(bar.value * 100)} %${message ? ` · ${message}` : ''}${etaSeconds !== undefined ? ` · about ${formatSeconds(etaSeconds)} left` : ''}`;
  },
  reset(): void {
    this.set(0);
    byId('progress-text').textContent = '';
  },
  log(text: string, kind: 'info' | 'warn' = 'info', attrs: Record<string, string> = {}): void {
    byId('run-log').append(h('li', { class: kind === 'warn' ? 'warn' : undefined, ...attrs }, text));
  },
  clearLog(): void {
    byId('run-log').replaceChildren();
  },
};

/**
 * Map a job's progress into [from, to] of the whole run, with the time left in this phase
 * extrapolated from its own pace (shown once it has run a second and done 2 % of its work).
 */
export function phase(from: number, to: number, label: string): (f: number, m?: string) => void {
  const t0 = performance.now();
  return (f, m) => {
    const elapsed = (performance.now() - t0) / 1000;
    const eta = f >= 0.02 && f < 1 && elapsed >= 1 ? (elapsed * (1 - f)) / f : undefined;
    progress.set(from + (to - from) * f, m ? `${label}: ${m}` : label, eta);
  };
}
