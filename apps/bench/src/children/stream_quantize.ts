/**
 * Child of the `stream` suite: quantize <model> to <out> (int4 block 32 MatMulNBits) either
 * streaming or in memory, and print seconds and peak RSS as JSON — a fresh process per run, so
 * the peak belongs to that run alone.
 */
import { rewriteModelFile, readModelFile, writeModelFile } from '@whittle/onnx/node';
import { runPass } from '@whittle/graph';
import { quantizeWeightsStreaming } from '@whittle/quantize';

const [mode, input, output] = process.argv.slice(2) as ['stream' | 'memory', string, string];
const baseRss = process.memoryUsage.rss();
const t0 = performance.now();
const c0 = process.cpuUsage();
if (mode === 'stream') {
  await rewriteModelFile(input, output, async (m, io) => void (await quantizeWeightsStreaming(m, io, { bits: 4, blockSize: 32 })));
} else {
  const m = await readModelFile(input);
  const q = await runPass('quantize-weights', m, { bits: 4, blockSize: 32, format: 'matmulnbits', ops: ['MatMul'] });
  await writeModelFile(q.model, output);
}
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
// cpu seconds too: on a shared machine the wall clock measures the neighbours as well
console.log(JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6, peakRss: process.resourceUsage().maxRSS * 1024, baseRss }));
