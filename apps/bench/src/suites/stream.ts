/**
 * Suite `stream`: weight-only int4 (block 32, MatMulNBits) of a synthetic MLP with >= 2.5 GB of
 * float32 weights in external data (10 x [8192, 8192] by default; `--layers N --width W`).
 * Streaming (rewriteModelFile + quantizeWeightsStreaming) on one thread and on `--threads N`
 * band threads (default 2; node:worker_threads), against Whittle's in-memory path (readModelFile +
 * quantize-weights + writeModelFile) on the same file, each in a fresh process: seconds, cpu
 * seconds (all threads), GB/s of fp32 weights per wall second and per cpu second (and per wall
 * second after the first weight: without start-up such as the band threads'), peak RSS against
 * the bar (largest tensor + 300 MB), the load average before each run (the machine is shared). The
 * two streaming outputs must be byte-identical; the outputs are run in onnxruntime-node against the
 * fp32 model (cosine of the outputs). `--no-memory` skips the in-memory run (it needs RAM for the
 * whole model). `--runs R` (default 3): the one-thread and `--threads` streaming runs alternate, R
 * of each; medians (peak RSS: the largest) are printed. `--dist` runs the children on the packages'
 * build instead of their sources (band threads then start without compiling TypeScript).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { numberArg } from '../args.js';

const child = join(dirname(fileURLToPath(import.meta.url)), '..', 'children', 'stream_quantize.ts');
const MB = 2 ** 20;

interface Run {
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
  baseRss: number;
  load: number;
  /** GB/s of fp32 from the end of the first weight to the end (streaming runs). */
  steadyGBs?: number;
}

/** Run the child on the packages' TypeScript sources, or on their build (`dist`: `pnpm build` first). */
let conditions = ['--conditions=@whittle/source'];

function quantize(mode: 'stream' | 'memory', input: string, output: string, threads = 1): Run {
  const load = loadavg()[0]!;
  const r = spawnSync(process.execPath, [...conditions, '--import', 'tsx', child, mode, input, output, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${mode} run failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Run, 'load'>), load };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Each field's median over the runs (peak RSS: the largest). */
function medianRun(rs: Run[]): Run {
  const steady = rs.map((r) => r.steadyGBs).filter((x): x is number => x !== undefined);
  return {
    seconds: median(rs.map((r) => r.seconds)),
    cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
    peakRss: Math.max(...rs.map((r) => r.peakRss)),
    baseRss: median(rs.map((r) => r.baseRss)),
    load: median(rs.map((r) => r.load)),
    ...(steady.length ? { steadyGBs: median(steady) } : {}),
  };
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function outputOf(path: string, x: Float32Array, width: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  const y = (await s.run({ x: new ort.Tensor('float32', x, [1, width]) }))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return y;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

export async function run(args: string[]): Promise<void> {
  const width = numberArg(args, 'width', 8192);
  const layers = numberArg(args, 'layers', 10);
  const threads = numberArg(args, 'threads', 2);
  const runs = numberArg(args, 'runs', 3);
  // from the sources each band thread compiles its TypeScript through tsx at start (a few tenths
  // of a cpu second); the build starts threads as a user's install does
  if (args.includes('--dist')) conditions = [];
  console.log(`packages from their ${conditions.length ? 'TypeScript sources (--dist: from the build)' : 'build (dist)'}`);
  const dir = mkdtempSync(join(tmpdir(), 'whittle-bench-stream-'));
  try {
    const t0 = performance.now();
    const src = writeSyntheticMlp(dir, Array.from({ length: layers + 1 }, () => width), { seed: 1, name: 'big' });
    console.log(`synthetic MLP: ${layers} x [${width}, ${width}] float32 = ${(src.dataBytes / 1e9).toFixed(2)} GB of external data (largest tensor ${(src.largestTensor / MB).toFixed(0)} MB), written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const bar = src.largestTensor + 300 * MB;
    const rows: [string, Run, string][] = [];
    // the same file name in two folders: the model files name their data file, so they compare too
    const one = join(dir, 't1', 'stream_q4.onnx');
    const many = join(dir, `t${threads}`, 'stream_q4.onnx');
    mkdirSync(dirname(one));
    mkdirSync(dirname(many));
    // interleaved repetitions, medians: the machine is shared, so neighbours come and go
    const ones: Run[] = [];
    const manys: Run[] = [];
    for (let r = 0; r < runs; r++) {
      ones.push(quantize('stream', src.modelPath, one, 1));
      manys.push(quantize('stream', src.modelPath, many, threads));
    }
    rows.push([`streaming, 1 thread (median of ${runs})`, medianRun(ones), one]);
    rows.push([`streaming, ${threads} threads (median of ${runs})`, medianRun(manys), many]);
    const same = (await sha256(one)) === (await sha256(many)) && (await sha256(`${one}.data`)) === (await sha256(`${many}.data`));
    console.log(`1 thread vs ${threads} threads: output files ${same ? 'byte-identical' : 'DIFFER'}`);
    if (!args.includes('--no-memory')) {
      const m = quantize('memory', src.modelPath, join(dir, 'memory_q4.onnx'));
      rows.push(['in memory', m, join(dir, 'memory_q4.onnx')]);
    }
    const x = Float32Array.from({ length: width }, (_, i) => Math.sin(i * 0.37));
    const ref = await outputOf(src.modelPath, x, width);
    console.log('\n| path | load avg before (median) | seconds | cpu seconds | GB/s (fp32 in) | GB/s per cpu second | GB/s after the first weight | peak RSS | <= largest + 300 MB | output | cosine vs fp32 (ORT) |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [name, r, out] of rows) {
      const size = statSync(out).size + (statSync(`${out}.data`, { throwIfNoEntry: false })?.size ?? 0);
      const cos = cosine(ref, await outputOf(out, x, width));
      console.log(`| ${name} | ${r.load.toFixed(2)} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${(src.dataBytes / 1e9 / r.seconds).toFixed(3)} | ${(src.dataBytes / 1e9 / r.cpuSeconds).toFixed(3)} | ${r.steadyGBs?.toFixed(3) ?? '-'} | ${(r.peakRss / MB).toFixed(0)} MB | ${r.peakRss <= bar ? 'yes' : 'NO'} (${(bar / MB).toFixed(0)} MB) | ${(size / MB).toFixed(0)} MB | ${cos.toFixed(5)} |`);
    }
    const [a, b] = [rows[0]![1], rows[1]![1]];
    console.log(`\n${threads} threads vs 1: ${(a.seconds / b.seconds).toFixed(2)}x the wall speed, ${(b.cpuSeconds / a.cpuSeconds).toFixed(2)}x the cpu seconds`);
    if (rows.length === 3) {
      const m = rows[2]![1];
      console.log(`streaming (1 thread) vs in memory: ${(m.seconds / a.seconds).toFixed(2)}x the speed, ${(a.peakRss / m.peakRss).toFixed(3)}x the peak memory`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
