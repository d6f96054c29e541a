/**
 * The compression worker: runs one job at a time (probe, analyze, compress, sensitivity,
 * evaluate) and reports progress. Cancel aborts the job's AbortSignal, which passes, training
 * and evaluation check between units of work; the page terminates the worker when a job does
 * not stop within its grace period (a long synchronous kernel cannot see the signal).
 */
import { WhittleError } from '@whittle/tensor';
import { analyzeModel } from './analyze.js';
import { selectBackend } from './backend.js';
import { compress } from './compress.js';
import { loadFiles } from './load.js';
import { evaluateVariants } from './evaluate.js';
import type { FromWorker, Job, JobFailure, JobResults, ToWorker } from './protocol.js';
import { resolveOrtRuntime, wasmOrtModule } from './ort_web.js';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { runSensitivity } from './sensitivity.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const running = new Map<number, AbortController>();

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

/** Progress at most every 50 ms (plus the final one), so messages never flood the page. */
function progressFor(id: number): (fraction: number, message?: string) => void {
  let last = 0;
  return (fraction, message) => {
    const now = performance.now();
    if (now - last < 50 && fraction < 1) return;
    last = now;
    post({ type: 'progress', id, fraction: Math.min(1, Math.max(0, fraction)), ...(message ? { message } : {}) });
  };
}

async function run(job: Job, signal: AbortSignal, progress: (f: number, m: string) => void): Promise<{ result: JobResults[Job['kind']]; transfer: Transferable[] }> {
  switch (job.kind) {
    case 'probe':
      return { result: await selectBackend(job.backend), transfer: [] };
    case 'load': {
      const r = await loadFiles(job.files, progress);
      return { result: r, transfer: [r.bytes.buffer] };
    }
    case 'analyze':
      return { result: await analyzeModel(job.model, progress), transfer: [] };
    case 'compress': {
      const r = await compress(job, signal, progress, ortActivationRuntime(wasmOrtModule() as unknown as OrtModuleLike));
      return { result: r, transfer: [r.bytes.buffer] };
    }
    case 'sensitivity':
      return { result: await runSensitivity(job, signal, progress), transfer: [] };
    case 'ort-probe':
      return { result: await resolveOrtRuntime(job.ort), transfer: [] };
    case 'evaluate': {
      const r = await evaluateVariants(job, signal, progress);
      return { result: r, transfer: [r.reference.buffer] };
    }
  }
}

function failure(e: unknown): JobFailure {
  if (e instanceof WhittleError) return { name: e.name, message: e.message, code: e.code };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

scope.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort(new Error('cancelled by the user'));
    return;
  }
  const ctrl = new AbortController();
  running.set(msg.id, ctrl);
  try {
    const { result, transfer } = await run(msg.job, ctrl.signal, progressFor(msg.id));
    post({ type: 'done', id: msg.id, result }, transfer);
  } catch (e) {
    post({ type: 'failed', id: msg.id, error: failure(e), cancelled: ctrl.signal.aborted });
  } finally {
    running.delete(msg.id);
  }
};
