/**
 * `@whittle/eval/format` — number formatting shared by the reports and the CLI. A light entry:
 * it imports nothing, so `whittle inspect` uses it without loading the evaluation stack
 * (onnxruntime-node, data readers).
 * @module
 */

/** Bytes as B / KB / MB / GB (1 KB = 1000 B). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}
