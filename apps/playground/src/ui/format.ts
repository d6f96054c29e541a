import { formatBytes } from '@whittle/eval';

export { formatBytes };

/** 0.1234 → '12.34 %'. */
export function pct(x: number | undefined, digits = 2): string {
  return x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`;
}

/** 1234567 → '1.23M'. */
export function count(n: number): string {
  if (n < 1e4) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** SQNR in dB, with ±∞. */
export function db(x: number | undefined): string {
  if (x === undefined) return '–';
  if (x === Infinity) return '∞';
  if (x === -Infinity) return '−∞';
  return x.toFixed(1);
}

/** Shape as [a, b, c]. */
export function shape(dims: readonly (number | string | null)[] | null): string {
  return dims ? `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '(unknown shape)';
}
