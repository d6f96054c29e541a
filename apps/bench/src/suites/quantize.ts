/**
 * Suite `quantize`: (1) RTN int4 (block 32, MatMulNBits) throughput file to file on a synthetic
 * model holding 512 MB of float32 MatMul weights — read, quantize, write, wall and cpu seconds — in GB of fp32
 * weights per second, the read beside a plain read and onnxruntime-node session creation, in
 * alternating rounds in this process and once per fresh process; (1b) the same through the streaming path (`whittle quantize stream`'s
 * rewriteModelFile + quantizeWeightsStreaming) on a 1.07 GB model (4 x [8192, 8192], external
 * data), each run a fresh process: medians of cpu seconds (the machine is shared), wall seconds,
 * peak RSS against largest tensor + 300 MB, and the output's cosine to fp32 in onnxruntime-node,
 * on one thread (the one-core figure) and on `--threads N` band threads (default 2; 1: one thread
 * only), alternating, the two outputs checked byte-identical (`--dist`: the children run on the
 * packages' build, so band threads start without compiling TypeScript); (2) batch-1 latency in onnxruntime-node (1 thread) of an MLP with
 * 1024-wide layers in fp32 and after `quantize-dynamic` (int8), measured in the same run,
 * interleaved, medians of 7 repetitions; (3) static int8 calibration (quantize-static, minmax, QDQ)
 * of ResNet-18 on 64 images, activations from Whittle's interpreter vs onnxruntime-node, with the
 * largest difference of the resulting scales, fresh processes, medians of --calib-runs; with
 * `--baseline <dir>` (a checkout of an older commit with its dependencies installed, e.g. a git
 * worktree) also that code's interpreter path, in the same run.
 *
 * `pnpm bench quantize [--only throughput|stream|latency|calibration] [--threads 2] [--dist] [--calib-size 224] [--runs 5] [--calib-runs 3] [--baseline <dir>]`
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { readModelFile, writeModelFile } from '@whittle/onnx/node';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { numberArg } from '../args.js';
import '@whittle/quantize';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** x → (MatMul W_i → Relu) × layers, weights [width, width] uniform in ±1/sqrt(width). */
function mlp(width: number, layers: number, seed: number): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('mlp');
  let x = b.input('x', 'float32', ['N', width]);
  const bound = 1 / Math.sqrt(width);
  for (let i = 0; i < layers; i++) {
    const w = new Float32Array(width * width);
    for (let k = 0; k < w.length; k++) w[k] = rng.uniform(-bound, bound);
    x = b.node('MatMul', [x, b.initializer(`w${i}`, tensor(w, [width, width], 'float32', { backend: 'cpu' }))]);
    if (i < layers - 1) x = b.node('Relu', [x]);
  }
  b.output(x, 'float32', ['N', width]);
  return b.model([{ domain: '', version: 17 }]);
}

/** The file's bytes into one buffer by large reads: the limit a model reader can reach. */
function plainRead(path: string): Buffer {
  const size = statSync(path).size;
  const out = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  try {
    for (let done = 0; done < size;) done += readSync(fd, out, done, Math.min(size - done, 1 << 26), done);
  } finally {
    closeSync(fd);
  }
  return out;
}

async function throughput(runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'whittle-bench-q-'));
  try {
    const src = join(dir, 'big.onnx');
    const dst = join(dir, 'big_q4.onnx');
    // 32 layers of 2048 x 2048 float32 = 512 MiB of weights
    await writeModelFile(mlp(2048, 32, 1), src);
    const bytes = statSync(src).size;
    const gbps = (ms: number): string => `${(bytes / 1e9 / (ms / 1000)).toFixed(3)} GB/s`;
    // cpu seconds of this process (all its threads) per phase, next to the wall seconds
    const cpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    // rounds alternate the reader and its peers on the same file: a plain read (the limit) and
    // onnxruntime session creation; then quantize and write what Whittle read
    const plain: number[] = [];
    const session: number[] = [];
    const phases = { read: [] as number[], quantize: [] as number[], write: [] as number[], cpuRead: [] as number[], cpuQuantize: [] as number[], cpuWrite: [] as number[] };
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      plainRead(src);
      plain.push(performance.now() - t);
      t = performance.now();
      await (await ort.InferenceSession.create(src, { intraOpNumThreads: 1 })).release();
      session.push(performance.now() - t);
      const t0 = performance.now();
      const c0 = cpu();
      const model = await readModelFile(src);
      const t1 = performance.now();
      const c1 = cpu();
      const q = await runPass('quantize-weights', model, { bits: 4, blockSize: 32, format: 'matmulnbits' });
      const t2 = performance.now();
      const c2 = cpu();
      rmSync(dst, { force: true });
      await writeModelFile(q.model, dst);
      const t3 = performance.now();
      const c3 = cpu();
      phases.read.push(t1 - t0);
      phases.quantize.push(t2 - t1);
      phases.write.push(t3 - t2);
      phases.cpuRead.push(c1 - c0);
      phases.cpuQuantize.push(c2 - c1);
      phases.cpuWrite.push(c3 - c2);
    }
    const m = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, median(v)])) as Record<keyof typeof phases, number>;
    const read = m.read;
    console.log(`model read, ${(bytes / 2 ** 20).toFixed(0)} MiB inline model, ${runs} alternating rounds, medians: Whittle readModelFile ${(read / 1000).toFixed(2)} s (${gbps(read)}); plain file read ${(median(plain) / 1000).toFixed(2)} s (${gbps(median(plain))}, Whittle at ${(median(plain) / read).toFixed(2)}x of it); onnxruntime-node session creation ${(median(session) / 1000).toFixed(2)} s (${gbps(median(session))}, Whittle at ${(median(session) / read).toFixed(2)}x of it)`);
    // the same three readers once per fresh process (as a command reads its model), alternating
    const child = join(dirname(fileURLToPath(import.meta.url)), '..', 'children', 'read_model.ts');
    const fresh = { whittle: [] as number[], plain: [] as number[], ort: [] as number[] };
    for (let r = 0; r < runs; r++) {
      for (const reader of ['plain', 'ort', 'whittle'] as const) {
        const out = spawnSync(process.execPath, ['--conditions=@whittle/source', '--import', 'tsx', child, reader, src], { encoding: 'utf8' });
        if (out.status !== 0) throw new Error(`model read child (${reader}) failed: ${out.stderr}`);
        fresh[reader].push(JSON.parse(out.stdout.trim().split('\n').pop()!).seconds * 1000);
      }
    }
    const fw = median(fresh.whittle);
    console.log(`  once per fresh process, ${runs} each, medians: Whittle ${(fw / 1000).toFixed(2)} s (${gbps(fw)}); plain read ${gbps(median(fresh.plain))} (Whittle at ${(median(fresh.plain) / fw).toFixed(2)}x); onnxruntime-node ${gbps(median(fresh.ort))} (Whittle at ${(median(fresh.ort) / fw).toFixed(2)}x)`);
    const total = m.read + m.quantize + m.write;
    console.log(`RTN int4 block-32 MatMulNBits, file to file: ${(bytes / 2 ** 20).toFixed(0)} MiB fp32 model -> ${(statSync(dst).size / 2 ** 20).toFixed(1)} MiB`);
    console.log(`  read ${(m.read / 1000).toFixed(2)} s, quantize ${(m.quantize / 1000).toFixed(2)} s, write ${(m.write / 1000).toFixed(2)} s: ${gbps(total)} of fp32 weights (${gbps(m.quantize)} for the quantization alone)`);
    console.log(`  cpu: read ${m.cpuRead.toFixed(2)} s, quantize ${m.cpuQuantize.toFixed(2)} s, write ${m.cpuWrite.toFixed(2)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface StreamRun {
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Streaming int4 file to file (the stream suite's child), fresh processes: on one thread (the
 * one-core figure) and, when `threads` > 1, on that many band threads, the two alternating,
 * `runs` of each; medians (peak RSS: the largest). The outputs must be byte-identical.
 */
async function streaming(runs: number, threads: number, dist: boolean): Promise<void> {
  const child = join(dirname(fileURLToPath(import.meta.url)), '..', 'children', 'stream_quantize.ts');
  const dir = mkdtempSync(join(tmpdir(), 'whittle-bench-qs-'));
  try {
    const width = 8192;
    const src = writeSyntheticMlp(dir, [width, width, width, width, width], { seed: 1, name: 'big' });
    const configs = [1, ...(threads > 1 ? [threads] : [])].map((t) => ({ threads: t, out: join(dir, `t${t}`, 'q4.onnx'), rows: [] as StreamRun[] }));
    // the same file name in each folder: the model files name their data file, so they compare too
    for (const c of configs) mkdirSync(dirname(c.out));
    for (let i = 0; i < runs; i++) {
      for (const c of configs) {
        rmSync(c.out, { force: true });
        rmSync(`${c.out}.data`, { force: true });
        const r = spawnSync(process.execPath, [...(dist ? [] : ['--conditions=@whittle/source']), '--import', 'tsx', child, 'stream', src.modelPath, c.out, String(c.threads)], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`streaming run (${c.threads} thread(s)) failed: ${r.stderr}`);
        c.rows.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
      }
    }
    const gb = src.dataBytes / 1e9;
    const bar = src.largestTensor + 300 * 2 ** 20;
    const x = Float32Array.from({ length: width }, (_, i) => Math.sin(i * 0.37));
    const outputOf = async (path: string): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
      const y = (await s.run({ x: new ort.Tensor('float32', x, [1, width]) }))[s.outputNames[0]!]!.data as Float32Array;
      await s.release();
      return y;
    };
    const [a, b] = [await outputOf(src.modelPath), await outputOf(configs[0]!.out)];
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) [d, na, nb] = [d + a[i]! * b[i]!, na + a[i]! ** 2, nb + b[i]! ** 2];
    console.log(`streaming RTN int4 block-32 MatMulNBits, file to file, ${(gb).toFixed(2)} GB fp32 (4 x [${width}, ${width}]), packages from their ${dist ? 'build (--dist)' : 'TypeScript sources (band threads compile theirs through tsx at start; --dist: the build)'}, ${runs} fresh processes per thread count (alternating), medians; load average now ${loadavg()[0]!.toFixed(2)}:`);
    console.log('| threads | wall s | GB/s (wall) | cpu s (all threads) | GB per cpu second | M weights per cpu second | peak RSS | <= largest + 300 MB |');
    console.log('|---|---|---|---|---|---|---|---|');
    const med = configs.map((c) => ({ wall: median(c.rows.map((r) => r.seconds)), cpu: median(c.rows.map((r) => r.cpuSeconds)), peak: Math.max(...c.rows.map((r) => r.peakRss)) }));
    for (const [k, c] of configs.entries()) {
      const m = med[k]!;
      console.log(`| ${c.threads} | ${m.wall.toFixed(2)} | ${(gb / m.wall).toFixed(2)} | ${m.cpu.toFixed(2)} (min ${Math.min(...c.rows.map((r) => r.cpuSeconds)).toFixed(2)}) | ${(gb / m.cpu).toFixed(2)} | ${(src.dataBytes / 4 / m.cpu / 1e6).toFixed(0)} | ${(m.peak / 2 ** 20).toFixed(0)} MB | ${m.peak <= bar ? 'yes' : 'NO'} (${(bar / 2 ** 20).toFixed(0)} MB) |`);
    }
    console.log(`  output vs fp32 in onnxruntime-node: cosine ${(d / Math.sqrt(na * nb)).toFixed(5)}`);
    if (configs.length > 1) {
      const [one, many] = configs;
      const same = (await sha256(one!.out)) === (await sha256(many!.out)) && (await sha256(`${one!.out}.data`)) === (await sha256(`${many!.out}.data`));
      console.log(`  ${threads} threads vs 1: ${(med[0]!.wall / med[1]!.wall).toFixed(2)}x the wall speed, ${(med[1]!.cpu / med[0]!.cpu).toFixed(2)}x the cpu seconds; output files ${same ? 'byte-identical' : 'DIFFER'}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function session(m: Model): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(writeModel(m), { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

async function latency(): Promise<void> {
  const fp32 = mlp(1024, 4, 2);
  const int8 = (await runPass('quantize-dynamic', fp32, {})).model;
  const sessions = [await session(fp32), await session(int8)];
  const feed = { x: new ort.Tensor('float32', new Float32Array(1024).fill(0.1), [1, 1024]) };
  const times: number[][] = [[], []];
  for (const s of sessions) for (let i = 0; i < 50; i++) await s.run(feed);
  for (let r = 0; r < 7; r++) {
    for (const [k, s] of sessions.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) await s.run(feed);
      times[k]!.push((performance.now() - t0) / 200);
    }
  }
  for (const s of sessions) await s.release();
  const [a, b] = times.map(median) as [number, number];
  console.log('MLP 4 x 1024x1024 MatMul, batch 1, onnxruntime-node 1 thread (median of 7 x 200 runs)');
  console.log(`  fp32 ${(a * 1000).toFixed(1)} µs, dynamic int8 ${(b * 1000).toFixed(1)} µs: int8 is ${(a / b).toFixed(2)}x faster`);
}

interface CalibrationRun {
  seconds: number;
  cpuSeconds: number;
  scales: Record<string, number[]>;
}

/**
 * Largest relative difference of the scales two runs share, and how many scales only one has (an
 * older commit may place its QDQ pairs elsewhere, e.g. before a Relu).
 */
function scaleDifference(a: CalibrationRun, b: CalibrationRun): string {
  let maxRel = 0;
  let shared = 0;
  for (const [name, xs] of Object.entries(a.scales)) {
    const ys = b.scales[name];
    if (!ys) continue;
    shared++;
    if (ys.length !== xs.length) return `scale '${name}' has ${xs.length} vs ${ys.length} values`;
    for (let i = 0; i < xs.length; i++) maxRel = Math.max(maxRel, Math.abs(xs[i]! - ys[i]!) / Math.max(1e-12, Math.abs(xs[i]!)));
  }
  const only = Object.keys(a.scales).length + Object.keys(b.scales).length - 2 * shared;
  return `largest relative difference of the ${shared} shared scales to onnxruntime-node's ${maxRel.toExponential(2)}${only ? ` (${only} scales in one model only)` : ''}`;
}

/**
 * quantize-static (minmax, QDQ) of ResNet-18 on 64 images: onnxruntime activations vs the
 * interpreter, and with `baseline` (a checkout of an older commit, dependencies installed) that
 * code's interpreter path; each run a fresh process (children/calibrate_static.ts), the
 * configurations alternating, medians of `runs`.
 */
async function calibration(size: number, runs: number, baseline: string | undefined): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = join(here, '..', 'children', 'calibrate_static.ts');
  const root = join(here, '..', '..', '..', '..');
  const configs = [
    { label: 'onnxruntime-node', root, runtime: 'onnxruntime' },
    { label: 'interpreter', root, runtime: 'interpreter' },
    ...(baseline ? [{ label: `baseline interpreter (${baseline})`, root: baseline, runtime: 'interpreter' }] : []),
  ];
  const rows: CalibrationRun[][] = configs.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [k, c] of configs.entries()) {
      const out = spawnSync(process.execPath, ['--conditions=@whittle/source', '--import', 'tsx', child, c.root, c.runtime, String(size)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (out.status !== 0) throw new Error(`calibration run (${c.label}) failed: ${out.stderr}`);
      rows[k]!.push(JSON.parse(out.stdout.trim().split('\n').pop()!) as CalibrationRun);
    }
  }
  const wall = rows.map((rs) => median(rs.map((x) => x.seconds)));
  const cpu = rows.map((rs) => median(rs.map((x) => x.cpuSeconds)));
  // the fastest run of each: the least disturbed by neighbours on a shared machine
  const best = rows.map((rs) => Math.min(...rs.map((x) => x.seconds)));
  console.log(`quantize-static (minmax, QDQ) of ResNet-18 ${size}x${size}, 64 images in batches of 8, whole pass, ${runs} fresh processes each (alternating), medians:`);
  for (const [k, c] of configs.entries()) {
    const vs = k ? `: onnxruntime-node is ${(wall[k]! / wall[0]!).toFixed(1)}x faster wall (${(best[k]! / best[0]!).toFixed(1)}x fastest run to fastest run), ${(cpu[k]! / cpu[0]!).toFixed(1)}x less cpu; ${scaleDifference(rows[k]![0]!, rows[0]![0]!)}` : '';
    console.log(`  ${c.label} ${wall[k]!.toFixed(2)} s (fastest ${best[k]!.toFixed(2)} s, cpu ${cpu[k]!.toFixed(2)} s)${vs}`);
  }
}

/** Run the quantize suite. */
export async function run(args: string[]): Promise<void> {
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const size = numberArg(args, 'calib-size', 224);
  const runs = numberArg(args, 'runs', 5);
  const baseline = args.includes('--baseline') ? args[args.indexOf('--baseline') + 1] : undefined;
  if ((!only || only === 'throughput') && !args.includes('--no-throughput')) await throughput(runs);
  const threads = numberArg(args, 'threads', 2);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be an integer >= 1, got ${threads}`);
  if ((!only || only === 'stream') && !args.includes('--no-throughput')) await streaming(runs, threads, args.includes('--dist'));
  if (!only || only === 'latency') await latency();
  if (!only || only === 'calibration') await calibration(size, numberArg(args, 'calib-runs', 3), baseline);
}
