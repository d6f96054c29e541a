/**
 * Child of the `stream` suite: quantize <model> to <out> (int4 block 32 MatMulNBits) either
 * streaming (on [threads] band threads, default 1) or in memory, and print seconds, cpu seconds
 * (all threads) and peak RSS as JSON — a fresh process per run, so the peak belongs to that run alone.
 */
import { rewriteModelFile, readModelFile, writeModelFile } from '@whittle/onnx/node';
import { runPass } from '@whittle/graph';
import { nodeBandThreads, quantizeWeightsStreaming } from '@whittle/quantize/node';
import { peakRssBytes } from '@whittle/testing/peak-rss';

const [mode, input, output, threadsArg] = process.argv.slice(2) as ['stream' | 'memory', string, string, string?];
const threads = Number(threadsArg ?? 1);
const baseRss = process.memoryUsage.rss();
const t0 = performance.now();
const c0 = process.cpuUsage();
// after the first weight: the rate without start-up (thread start-up, WASM compile, first page faults)
let steady: { t: number; bytes: number } | undefined;
let inBytes = 0;
if (mode === 'stream') {
  await rewriteModelFile(input, output, async (m, io) => {
    const sizes = new Map([...m.graph.rawInitializers].map(([k, t]) => [k, t.external?.length ?? 0]));
    const onProgress = (_d: number, _n: number, w: string): void => {
      inBytes += sizes.get(w) ?? 0;
      steady ??= { t: performance.now(), bytes: inBytes };
    };
    await quantizeWeightsStreaming(m, io, { bits: 4, blockSize: 32, threads, bandThreads: nodeBandThreads, onProgress });
  });
} else {
  const m = await readModelFile(input);
  const q = await runPass('quantize-weights', m, { bits: 4, blockSize: 32, format: 'matmulnbits', ops: ['MatMul'] });
  await writeModelFile(q.model, output);
}
const t1 = performance.now();
const seconds = (t1 - t0) / 1000;
const steadyGBs = steady && t1 > steady.t ? (inBytes - steady.bytes) / 1e9 / ((t1 - steady.t) / 1000) : undefined;
const c = process.cpuUsage(c0);
// cpu seconds too: on a shared machine the wall clock measures the neighbours as well
console.log(JSON.stringify({ seconds, steadyGBs, cpuSeconds: (c.user + c.system) / 1e6, peakRss: peakRssBytes(), baseRss }));
