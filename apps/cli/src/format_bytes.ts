/**
 * Bytes as B / KB / MB / GB (1 KB = 1000 B), as in @whittle/eval's reports. A copy of its
 * `formatBytes`, so `whittle inspect` starts without loading @whittle/eval and onnxruntime-node.
 */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}
