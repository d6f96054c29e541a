/**
 * A training summary's loss part from per-epoch mean losses: "loss a -> b (epoch means)", or for
 * one epoch its one mean (an "a -> a" would read as no progress).
 */
export function lossLine(losses: readonly number[]): string {
  if (losses.length <= 1) return `loss ${losses[0]?.toFixed(4) ?? 'n/a'} (mean over the one epoch)`;
  return `loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)} (epoch means)`;
}

/** "1 epoch", "5 epochs". */
export function epochCount(n: number): string {
  return `${n} epoch${n === 1 ? '' : 's'}`;
}
