/**
 * Suite `prune`: batch-1 latency in onnxruntime-node (1 intra-op thread) of Whittle's LeNet-5 and
 * of the same model with 50 % of its conv filters and fc neurons removed by `prune-structured`
 * (smaller tensors, fewer FLOPs), measured in the same run; medians of 5 repetitions of 300 runs.
 */
import * as ort from 'onnxruntime-node';
import { type Model, runPass, summarize } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import '@whittle/prune';
import { zooModel } from '@whittle/testing/zoo';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function latencyMs(m: Model, runs: number): Promise<number> {
  const s = await ort.InferenceSession.create(writeModel(m), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feed = { [s.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(784).fill(0.5), [1, 1, 28, 28]) };
  for (let i = 0; i < 50; i++) await s.run(feed);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await s.run(feed);
  const ms = (performance.now() - t0) / runs;
  await s.release();
  return ms;
}

/** Run the prune suite. */
export async function run(_args: string[]): Promise<void> {
  const zoo = await zooModel('lenet5');
  const pruned = (await runPass('prune-structured', zoo.model, { sparsity: 0.5 }, { seed: 1 })).model;
  const flops = (m: Model): number => summarize(m, { dims: { N: 1 } }).flops;
  const base: number[] = [];
  const small: number[] = [];
  // interleave the two models so drifts in machine load hit both alike
  for (let r = 0; r < 5; r++) {
    base.push(await latencyMs(zoo.model, 300));
    small.push(await latencyMs(pruned, 300));
  }
  const b = median(base);
  const p = median(small);
  console.log('Structured pruning, LeNet-5, onnxruntime-node batch 1, 1 thread (median of 5 x 300 runs)');
  console.log('model                        params    FLOPs     ms/run   speed-up');
  console.log(`original                  ${String(summarize(zoo.model).parameters).padStart(9)} ${String(flops(zoo.model)).padStart(9)}   ${b.toFixed(4)}    1.00x`);
  console.log(`50 % filters/neurons cut  ${String(summarize(pruned).parameters).padStart(9)} ${String(flops(pruned)).padStart(9)}   ${p.toFixed(4)}    ${(b / p).toFixed(2)}x`);
}
