/**
 * Peak resident memory of this process since it started, for memory tests and benchmarks run in
 * child processes. Linux keeps `ru_maxrss` (process.resourceUsage().maxRSS) across execve, so a
 * child spawned from a large parent (a vitest worker, ~400 MB) reports at least the parent's size;
 * /proc/self/status's VmHWM belongs to the address space exec made, and so measures the child alone.
 */
import { readFileSync } from 'node:fs';

/** Peak RSS in bytes: VmHWM where /proc exists, else maxRSS. */
export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no /proc (macOS, Windows): fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}
