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
if (mode === 'stream') {
  await rewriteModelFile(input, output, async (m, io) => void (await quantizeWeightsStreaming(m, io, { bits: 4, blockSize: 32 })));
} else {
  const m = await readModelFile(input);
  const q = await runPass('quantize-weights', m, { bits: 4, blockSize: 32, format: 'matmulnbits', ops: ['MatMul'] });
  await writeModelFile(q.model, output);
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, peakRss: process.resourceUsage().maxRSS * 1024, baseRss }));
