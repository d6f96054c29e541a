/**
 * Child of the `lm_scale` suite: one streaming conversion of <model> to <out>, the calls the CLI's
 * `quantize stream` makes — `int4` (MatMulNBits block 32, the tied token table shared with
 * GatherBlockQuantized; on [threads] band threads, default 1) or `fp16` — printing seconds, cpu
 * seconds (all threads) and peak RSS as JSON. A fresh process per run, so the peak belongs to
 * that run alone.
 */
import { rewriteModelFile } from '@whittle/onnx/node';
import { convertFloat16Streaming, quantizeWeightsStreaming } from '@whittle/quantize';
import { nodeBandThreads } from '@whittle/quantize/node';
import { peakRssBytes } from '@whittle/testing/peak-rss';

const [mode, input, output, threadsArg] = process.argv.slice(2) as ['int4' | 'fp16', string, string, string?];
const threads = Number(threadsArg ?? 1);
const baseRss = process.memoryUsage.rss();
const t0 = performance.now();
const c0 = process.cpuUsage();
let detail: unknown;
const r = await rewriteModelFile(input, output, async (m, io) => {
  if (mode === 'fp16') {
    const f = await convertFloat16Streaming(m, io);
    detail = { converted: f.converted, keptFloat32: f.keptFloat32 };
  } else {
    const layers = await quantizeWeightsStreaming(m, io, { bits: 4, blockSize: 32, symmetric: true, tiedEmbedding: 'shared', threads, bandThreads: nodeBandThreads });
    detail = { weights: layers.length, ops: [...new Set(m.graph.nodes.filter((n) => n.domain === 'com.microsoft').map((n) => n.opType))] };
  }
});
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6, peakRss: peakRssBytes(), baseRss, outputDataBytes: r.outputDataBytes, detail }));
