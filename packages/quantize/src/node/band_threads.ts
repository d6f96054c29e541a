/**
 * Band threads on node:worker_threads for `quantizeWeightsStreaming({ threads, bandThreads })`.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BandThreadFactory } from '../nbits_pool.js';
import { QuantizeWorkerError } from '../nbits_pool.js';
import type { BandFdMessage } from './nbits_worker.js';

/** tsx's ESM API (its `tsImport` loads a TypeScript module graph), from tsx's package.json. */
function tsxImportUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const exp = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!;
  return pathToFileURL(join(dirname(manifest), exp.import.default)).href;
}

/**
 * The Worker for a band thread. From the build: the compiled worker file. From the TypeScript
 * sources (tests, the repo's scripts): Node 20 does not carry the parent's tsx hooks into a
 * worker, so a small bootstrap loads the worker's source through tsx's `tsImport`.
 */
function bandWorker(): Worker {
  const source = import.meta.url.endsWith('.ts');
  const url = new URL(source ? './nbits_worker.ts' : './nbits_worker.js', import.meta.url);
  if (!source) return new Worker(url);
  const tsx = tsxImportUrl();
  // the parent's own loader flags (`--import tsx`, `--import=tsx`, …) fail or do nothing in a worker
  const argv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if ((a === '--import' || a === '--require' || a === '-r' || a === '--loader') && /tsx/.test(process.execArgv[i + 1] ?? '')) i++;
    else if (!/tsx/.test(a)) argv.push(a);
  }
  const execArgv = argv.some((a) => a.includes('@whittle/source')) ? argv : [...argv, '--conditions=@whittle/source'];
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`, { eval: true, execArgv });
}

/**
 * A {@link BandThreadFactory} on node:worker_threads: each thread is a Worker running the band
 * jobs; an uncaught error or an exit the pool did not ask for is reported as a
 * {@link QuantizeWorkerError}. The data files a thread reads are opened here, and closed here when
 * the thread has exited — however it ends (an abort terminates it in the middle of a range, where
 * it could not close a descriptor of its own).
 */
export const nodeBandThreads: BandThreadFactory = ({ reply, fail }) => {
  const worker = bandWorker();
  let stopping = false;
  let exited = false;
  const fds = new Map<string, number>();
  const closeFds = (): void => {
    for (const fd of fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // already closed: nothing left to release
      }
    }
    fds.clear();
  };
  worker.on('message', reply);
  worker.on('error', (e: Error) => fail(new QuantizeWorkerError(`quantizeWeightsStreaming: a band thread crashed: ${e.message}`, { cause: e })));
  worker.on('messageerror', (e: Error) => fail(new QuantizeWorkerError(`quantizeWeightsStreaming: a band thread's message could not be read: ${e.message}`, { cause: e })));
  worker.on('exit', (code) => {
    exited = true;
    closeFds();
    if (!stopping) fail(new QuantizeWorkerError(`quantizeWeightsStreaming: a band thread exited (code ${code})`));
  });
  return {
    post: (job) => {
      if (exited) return;
      if (job.type === 'part' && !fds.has(job.path)) {
        let fd: number;
        try {
          fd = openSync(job.path, 'r');
        } catch (e) {
          fail(new QuantizeWorkerError(`quantizeWeightsStreaming: cannot open ${job.path} for a band thread: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
          return;
        }
        fds.set(job.path, fd);
        worker.postMessage({ type: 'fd', path: job.path, fd } satisfies BandFdMessage);
      }
      worker.postMessage(job);
    },
    terminate: async () => {
      stopping = true;
      await worker.terminate();
      closeFds();
    },
  };
};
