/**
 * Band threads that read the model's data file themselves must not leave a descriptor on it open,
 * however the pass ends: an abort terminates the threads mid-range, and a terminated worker runs
 * no `finally` (only Node's default `trackUnmanagedFds` would close what it opened), so the
 * descriptors are opened and closed by the calling thread. Descriptors are read from
 * /proc/self/fd, which Linux has (the test is skipped elsewhere).
 */
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PassAbortedError } from '@whittle/graph';
import { rewriteModelFile } from '@whittle/onnx/node';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { type BandThreadFactory, nodeBandThreads, quantizeWeightsStreaming } from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-fds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Descriptors of this process (every thread's) open on `path`. */
function openOn(path: string): number {
  const target = realpathSync(path);
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) n++;
    } catch {
      // the descriptor readdir itself used, closed since
    }
  }
  return n;
}

describe('streaming MatMulNBits band threads and file descriptors', () => {
  it.runIf(process.platform === 'linux')('an abort while the threads read their ranges leaves no descriptor on the data file (Linux only: reads /proc/self/fd)', async () => {
    // one wide weight: each thread's range of blocks takes a while to read and quantize
    const mlp = writeSyntheticMlp(dir, [4096, 4096], { seed: 5, name: 'wide' });
    expect(openOn(mlp.dataPath)).toBe(0);
    for (let run = 0; run < 4; run++) {
      const ac = new AbortController();
      let done = 0;
      // abort once a thread has finished its first range (it is reading its next one), a little later each run
      const aborting: BandThreadFactory = (h) =>
        nodeBandThreads({
          reply: (r) => {
            h.reply(r);
            if (++done === 2) setTimeout(() => ac.abort(), 3 * run);
          },
          fail: h.fail,
        });
      const out = join(dir, `run${run}`);
      mkdirSync(out);
      const run1 = rewriteModelFile(mlp.modelPath, join(out, 'q.onnx'), (m, io) => quantizeWeightsStreaming(m, io, { threads: 2, bandThreads: aborting, signal: ac.signal }));
      await expect(run1).rejects.toThrow(PassAbortedError);
      expect(done, 'the threads were reading ranges').toBeGreaterThanOrEqual(2);
      expect(openOn(mlp.dataPath), `descriptors left on the data file after abort ${run}`).toBe(0);
      expect(readdirSync(out)).toEqual([]);
    }
    // and a pass that completes closes them too
    const out = join(dir, 'complete');
    mkdirSync(out);
    await rewriteModelFile(mlp.modelPath, join(out, 'q.onnx'), (m, io) => quantizeWeightsStreaming(m, io, { threads: 2, bandThreads: nodeBandThreads }));
    expect(readdirSync(out).sort()).toEqual(['q.onnx', 'q.onnx.data']);
    expect(openOn(mlp.dataPath)).toBe(0);
  }, 180_000);
});
