/**
 * Fuzz driver: runs cases in a child process (so a hang can be stopped), watches each case with
 * a 5 s limit and a memory bound, restarts the child after a kill, and collects failures.
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult } from './case.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Per-case time limit (ms). Default 5000. */
  timeoutMs?: number;
  /** Peak RSS growth allowed for a case: `baseBytes + perInputByte × input size`. */
  memory?: { baseBytes: number; perInputByte: number };
  onProgress?: (done: number) => void;
}

export interface FuzzFailure {
  index: number;
  kind: 'untyped error' | 'hang' | 'memory' | 'crash';
  detail: string;
  /** The mutated model (base64) when the child could send it. */
  bytes?: string;
}

export interface FuzzSummary {
  cases: number;
  rejected: number;
  accepted: number;
  /** Accepted models whose pass completed and whose output wrote and read back. */
  passOk: Record<string, number>;
  failures: FuzzFailure[];
  maxPeakBytes: number;
  slowestMs: number;
  /** The slowest case, for the long run's report. */
  slowest: string;
}

const here = dirname(fileURLToPath(import.meta.url));

interface EndMessage {
  type: 'end';
  result: CaseResult;
  inputBytes: number;
  peakKb: number;
  bytes?: string;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const timeout = o.timeoutMs ?? 5000;
  const mem = o.memory ?? { baseBytes: 128 * 2 ** 20, perInputByte: 32 };
  const s: FuzzSummary = { cases: 0, rejected: 0, accepted: 0, passOk: {}, failures: [], maxPeakBytes: 0, slowestMs: 0, slowest: '' };
  let next = 0;
  while (next < o.cases) {
    next = await new Promise<number>((resolve) => {
      const child = fork(join(here, 'child.ts'), [String(o.seed), String(next), String(o.cases)], {
        execArgv: ['--conditions=@whittle/source', '--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let current = next;
      let started = 0;
      let timer: NodeJS.Timeout | undefined;
      let stderr = '';
      let settled = false;
      const finish = (resumeAt: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(resumeAt);
      };
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      child.on('message', (m: { type: 'start'; index: number } | EndMessage | { type: 'finished' }) => {
        if (m.type === 'start') {
          current = m.index;
          started = performance.now();
          clearTimeout(timer);
          timer = setTimeout(() => {
            s.failures.push({ index: current, kind: 'hang', detail: `case ${current} ran over ${timeout} ms` });
            s.cases++;
            child.kill('SIGKILL');
          }, timeout);
        } else if (m.type === 'end') {
          clearTimeout(timer);
          const r = m.result;
          const ms = performance.now() - started;
          if (ms > s.slowestMs) {
            s.slowestMs = ms;
            s.slowest = `#${r.index} ${r.seed} / ${r.mutation} / ${r.pass} (${r.stage})`;
          }
          s.cases++;
          const peak = m.peakKb * 1024;
          s.maxPeakBytes = Math.max(s.maxPeakBytes, peak);
          const limit = mem.baseBytes + mem.perInputByte * m.inputBytes;
          if (r.outcome === 'failed') s.failures.push({ index: r.index, kind: 'untyped error', detail: `${r.seed} / ${r.mutation} / ${r.stage}: ${r.error}`, ...(m.bytes ? { bytes: m.bytes } : {}) });
          else if (peak > limit) s.failures.push({ index: r.index, kind: 'memory', detail: `${r.seed} / ${r.mutation} / ${r.pass}: peak RSS grew ${(peak / 2 ** 20).toFixed(0)} MB for a ${m.inputBytes} byte input` });
          else if (r.outcome === 'rejected') s.rejected++;
          else {
            s.accepted++;
            if (r.stage === 'done') s.passOk[r.pass] = (s.passOk[r.pass] ?? 0) + 1;
          }
          o.onProgress?.(s.cases);
          current = r.index + 1;
        } else if (m.type === 'finished') finish(o.cases);
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        if (signal !== 'SIGKILL') {
          s.failures.push({ index: current, kind: 'crash', detail: `fuzz child exited (${code ?? signal}) in case ${current}: ${stderr}` });
          s.cases++;
        }
        finish(current + 1);
      });
    });
  }
  return s;
}
