import type { FromWorker, Job, JobFailure, JobResults } from '../worker/protocol.js';

/** A job that failed in the worker, or was cancelled. */
export class JobError extends Error {
  constructor(
    readonly failure: JobFailure,
    readonly cancelled: boolean,
  ) {
    super(failure.message);
    this.name = failure.name;
  }
}

/** Something that runs worker jobs: the client itself or one of its sessions. */
export interface JobRunner {
  run<K extends Job['kind']>(job: Extract<Job, { kind: K }>, onProgress?: (fraction: number, message?: string) => void, transfer?: Transferable[]): Promise<JobResults[K]>;
}

const cancelledFailure = (): JobError => new JobError({ name: 'PassAbortedError', message: 'cancelled by the user' }, true);

interface Pending {
  resolve(r: unknown): void;
  reject(e: JobError): void;
  onProgress: ((fraction: number, message?: string) => void) | undefined;
}

/**
 * The page's handle on the compression worker: `run` posts a job and resolves with its result;
 * `cancel` aborts the job's signal and, when the worker does not answer within the grace period
 * (a pass busy in a synchronous loop cannot see the signal), terminates it and starts a new one.
 */
export class WorkerClient implements JobRunner {
  private worker: Worker;
  private nextId = 1;
  /** Bumped by every cancel: sessions started before it refuse further jobs. */
  private epoch = 0;
  private readonly pending = new Map<number, Pending>();
  /** performance.now() of the last cancel request (to report how fast jobs stopped). */
  cancelledAt = 0;

  constructor(private readonly spawn: () => Worker) {
    this.worker = this.start();
  }

  private start(): Worker {
    const w = this.spawn();
    w.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    w.onerror = (e) => this.failAll({ name: 'WorkerError', message: e.message || 'the worker failed to load' }, false);
    return w;
  }

  private receive(msg: FromWorker): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') return p.onProgress?.(msg.fraction, msg.message);
    this.pending.delete(msg.id);
    if (msg.type === 'done') p.resolve(msg.result);
    else p.reject(new JobError(msg.error, msg.cancelled));
  }

  private failAll(f: JobFailure, cancelled: boolean): void {
    for (const p of this.pending.values()) p.reject(new JobError(f, cancelled));
    this.pending.clear();
  }

  /** Run a job; `transfer` hands buffers over instead of copying them. */
  run<K extends Job['kind']>(job: Extract<Job, { kind: K }>, onProgress?: (fraction: number, message?: string) => void, transfer: Transferable[] = []): Promise<JobResults[K]> {
    const id = this.nextId++;
    return new Promise<JobResults[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, onProgress });
      this.worker.postMessage({ type: 'run', id, job }, transfer);
    });
  }

  /**
   * The jobs of one user action (e.g. compress → analyze → sensitivity → evaluate): after a
   * cancel, its remaining jobs are refused, even when the job in flight finished in time.
   */
  session(): JobRunner {
    const epoch = this.epoch;
    return { run: (job, onProgress, transfer) => (epoch === this.epoch ? this.run(job, onProgress, transfer) : Promise.reject(cancelledFailure())) };
  }

  /** True while a job is in flight. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Cancel every job in flight; resolves once they have settled (aborted or terminated). The
   * grace period keeps a cancel under a second even when a pass or an onnxruntime-web run
   * cannot see the signal: the worker is then terminated and replaced (it keeps no state).
   */
  async cancel(graceMs = 300): Promise<void> {
    this.epoch++;
    this.cancelledAt = performance.now();
    const ids = [...this.pending.keys()];
    if (!ids.length) return;
    for (const id of ids) this.worker.postMessage({ type: 'cancel', id });
    const deadline = performance.now() + graceMs;
    while (ids.some((id) => this.pending.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (ids.some((id) => this.pending.has(id))) {
      this.worker.terminate();
      this.failAll(cancelledFailure().failure, true);
      this.worker = this.start();
    }
  }
}
