import { byId, h } from './dom.js';

/** The run section's progress bar, its text and the log of what ran. */
export const progress = {
  set(fraction: number, message = ''): void {
    const bar = byId<HTMLProgressElement>('progress');
    bar.value = Math.max(0, Math.min(1, fraction));
    bar.dataset['fraction'] = bar.value.toFixed(3);
    byId('progress-text').textContent = `${Math.round(bar.value * 100)} %${message ? ` · ${message}` : ''}`;
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

/** Map a job's progress into [from, to] of the whole run. */
export function phase(from: number, to: number, label: string): (f: number, m?: string) => void {
  return (f, m) => progress.set(from + (to - from) * f, m ? `${label}: ${m}` : label);
}
