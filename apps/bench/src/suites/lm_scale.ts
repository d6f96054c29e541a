/**
 * Suite `lm_scale`: a decoder LM larger than 2 GB (float32, external data; random weights, tied
 * token table/LM head) through Whittle's streaming passes, file to file:
 *
 * - int4: MatMulNBits block 32 on every MatMul, the tied table as one 4-bit copy shared by
 *   GatherBlockQuantized and the head's MatMulNBits;
 * - fp16: convert-float16 (float32 inputs/outputs kept).
 *
 * Each conversion runs in a fresh process (the calls the CLI's `quantize stream` makes): seconds,
 * cpu seconds (all threads), GB/s of float32 weights per wall second and per cpu second, peak RSS
 * against the bar (largest tensor + 300 MB), output size. int4 runs on one thread (the one-core
 * figure) and, with `--threads N` (default 2; 1: one thread only), on N band threads
 * (`nodeBandThreads`) in the same run; the two outputs must be byte-identical (`--dist`: the
 * conversions run on the packages' build, so band threads start without compiling TypeScript).
 * `--cli` also runs `whittle quantize stream` itself (int4 on `--threads`, and --float16), peak
 * RSS read from /proc.
 * Then the original and the outputs run in onnxruntime-node on a few token sequences (prefill,
 * empty past): cosine of the logits, argmax agreement, the original's argmax within the output's
 * top 5, max |Δ| (the threaded int4 output only if its bytes differ).
 *
 * The model is generated once into the LM cache folder (`WHITTLE_LM_CACHE`, else
 * `<os tmp>/whittle-lm`; ≈2.5 GB at the defaults `--layers 20 --d-model 1536 --heads 12
 * --vocab 32000`); outputs go to a temp folder removed at the end (`--keep` keeps it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareOutputs } from '@whittle/eval';
import { createOrtRunner, type OrtFeed } from '@whittle/eval/node';
import { type DecoderLmOptions, decoderFeeds, decoderLmConfig, externalDecoderLmPath } from '@whittle/testing/lm';
import { numberArg } from '../args.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, '..', 'children', 'lm_scale_convert.ts');
const cliMain = join(here, '..', '..', '..', 'cli', 'src', 'main.ts');
const MB = 2 ** 20;

interface Run {
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
  /** RSS when the process started converting (node + tsx + modules); absent for the CLI. */
  baseRss?: number;
  detail?: unknown;
}

/** The children run on the packages' TypeScript sources, or on their build (`--dist`: band threads start without compiling TypeScript). */
let conditions = ['--conditions=@whittle/source'];

function convert(mode: 'int4' | 'fp16', input: string, output: string, threads = 1): Run {
  const r = spawnSync(process.execPath, [...conditions, '--import', 'tsx', child, mode, input, output, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${mode} run failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
}

/** The CLI in its own process; peak RSS is the kernel's high-water mark (VmHWM) read until exit. */
async function cli(args: string[]): Promise<Run & { stdout: string }> {
  const t0 = performance.now();
  const p = spawn(process.execPath, ['--conditions=@whittle/source', '--import', 'tsx', cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak = 0;
  let cpu = 0;
  const poll = (): void => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpu = (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
    } catch {
      // exited between polls
    }
  };
  const timer = setInterval(poll, 100);
  const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  clearInterval(timer);
  if (code !== 0) throw new Error(`whittle ${args.join(' ')} failed (${code}): ${stderr}`);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: cpu, peakRss: peak, stdout };
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Whether two outputs (.onnx and .data) have the same bytes. */
const sameFiles = async (a: string, b: string): Promise<boolean> => (await sha256(a)) === (await sha256(b)) && (await sha256(`${a}.data`)) === (await sha256(`${b}.data`));

const fileBytes = (p: string): number => statSync(p).size + (existsSync(`${p}.data`) ? statSync(`${p}.data`).size : 0);

/** Logits [rows × seq × vocab] of each sequence (prefill, empty past), one session at a time. */
async function logitsOf(path: string, options: DecoderLmOptions, seqs: number[][]): Promise<{ logits: Float32Array[]; loadSeconds: number; runSeconds: number }> {
  const config = decoderLmConfig(options);
  const t0 = performance.now();
  const r = await createOrtRunner(path, { intraOpNumThreads: 2 });
  const t1 = performance.now();
  try {
    const logits: Float32Array[] = [];
    for (const s of seqs) logits.push((await r.run(decoderFeeds(config, [s]) as Record<string, OrtFeed>))['logits']!.data as Float32Array);
    return { logits, loadSeconds: (t1 - t0) / 1000, runSeconds: (performance.now() - t1) / 1000 };
  } finally {
    await r.release();
  }
}

/** Spread of the reference logits and how far apart its two best tokens are (what argmax agreement can hope for). */
function spread(ref: Float32Array[], vocab: number): { std: number; gap: number } {
  let n = 0, sum = 0, sq = 0, gap = 0, rows = 0;
  for (const a of ref) {
    for (const v of a) [n, sum, sq] = [n + 1, sum + v, sq + v * v];
    for (let r = 0; r < a.length / vocab; r++) {
      let [b1, b2] = [-Infinity, -Infinity];
      for (let v = 0; v < vocab; v++) {
        const x = a[r * vocab + v]!;
        if (x > b1) [b1, b2] = [x, b1];
        else if (x > b2) b2 = x;
      }
      gap += b1 - b2;
      rows++;
    }
  }
  return { std: Math.sqrt(sq / n - (sum / n) ** 2), gap: gap / rows };
}

/** Logits agreement per sequence by @whittle/eval's compareOutputs, plus "fp32 argmax in the output's top 5". */
function compare(ref: Float32Array[], got: Float32Array[], vocab: number): { cosine: number; minCosine: number; argmax: number; top5: number; maxAbs: number; rms: number } {
  let se = 0;
  let count = 0;
  let agree = 0;
  let inTop5 = 0;
  let rows = 0;
  let maxAbs = 0;
  const cosines: number[] = [];
  for (let s = 0; s < ref.length; s++) {
    const [a, b] = [ref[s]!, got[s]!];
    const m = compareOutputs(a, b, { numClasses: vocab });
    cosines.push(m.cosine);
    maxAbs = Math.max(maxAbs, m.maxAbsError);
    se += m.rmse ** 2 * m.count;
    count += m.count;
    agree += m.top1Agreement! * m.rows!;
    for (let r = 0; r < m.rows!; r++) {
      let ia = 0;
      for (let v = 1; v < vocab; v++) if (a[r * vocab + v]! > a[r * vocab + ia]!) ia = v;
      let above = 0;
      for (let v = 0; v < vocab; v++) if (b[r * vocab + v]! > b[r * vocab + ia]!) above++;
      inTop5 += above < 5 ? 1 : 0;
    }
    rows += m.rows!;
  }
  return { cosine: cosines.reduce((p, c) => p + c, 0) / cosines.length, minCosine: Math.min(...cosines), argmax: agree / rows, top5: inTop5 / rows, maxAbs, rms: Math.sqrt(se / count) };
}

export async function run(args: string[]): Promise<void> {
  const options: DecoderLmOptions = { seed: 600, layers: numberArg(args, 'layers', 20), dModel: numberArg(args, 'd-model', 1536), heads: numberArg(args, 'heads', 12), vocab: numberArg(args, 'vocab', 32000), maxPositions: 512 };
  const threads = numberArg(args, 'threads', 2);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be an integer >= 1, got ${threads}`);
  if (args.includes('--dist')) conditions = [];
  console.log(`conversions on the packages' ${conditions.length ? 'TypeScript sources (--dist: the build)' : 'build (dist)'}`);
  const t0 = performance.now();
  const lm = externalDecoderLmPath(options);
  const genSeconds = (performance.now() - t0) / 1000;
  const c = lm.config;
  console.log(`decoder: ${c.layers} blocks, d_model ${c.dModel}, ${c.heads} heads, ffn ${c.ffn}, vocab ${c.vocab} (tied head): ${(lm.parameters / 1e6).toFixed(1)}M parameters, ${(lm.dataBytes / 1e9).toFixed(3)} GB float32 external data, .onnx ${(statSync(lm.modelPath).size / 1024).toFixed(0)} KiB, largest tensor ${(lm.largestTensor / MB).toFixed(1)} MB (${genSeconds > 5 ? `generated in ${genSeconds.toFixed(0)} s` : 'cached'})`);
  const bar = lm.largestTensor + 300 * MB;
  const dir = mkdtempSync(join(tmpdir(), 'whittle-bench-lm-scale-'));
  const checks: [string, boolean][] = [];
  try {
    // the threaded int4 output under the same file name in its own folder: the model files name their data file, so they compare too
    mkdirSync(join(dir, 'threads'));
    const outs = { int4: join(dir, 'lm_q4.onnx'), int4Threads: join(dir, 'threads', 'lm_q4.onnx'), fp16: join(dir, 'lm_fp16.onnx'), cli: join(dir, 'lm_q4_cli.onnx') };
    const rows: [string, Run, string][] = [];
    const int4 = 'int4 (MatMulNBits + GatherBlockQuantized)';
    let threadedSame = false;
    for (const mode of ['int4', 'fp16'] as const) {
      const r = convert(mode, lm.modelPath, outs[mode]);
      console.log(`${mode}: ${JSON.stringify(r.detail)}`);
      rows.push([mode === 'int4' ? `${int4}, 1 thread` : 'fp16', r, outs[mode]]);
      if (mode === 'int4' && threads > 1) {
        const t = convert('int4', lm.modelPath, outs.int4Threads, threads);
        rows.push([`${int4}, ${threads} threads`, t, outs.int4Threads]);
        threadedSame = await sameFiles(outs.int4, outs.int4Threads);
        console.log(`int4 on ${threads} threads: output ${threadedSame ? 'byte-identical to' : 'DIFFERS from'} the one-thread output; ${(r.seconds / t.seconds).toFixed(2)}x the wall speed, ${(t.cpuSeconds / r.cpuSeconds).toFixed(2)}x the cpu seconds`);
        checks.push([`int4 on ${threads} threads: byte-identical to 1 thread`, threadedSame]);
      }
    }
    if (args.includes('--cli')) {
      const r = await cli(['quantize', 'stream', lm.modelPath, '-o', outs.cli, '--threads', String(threads), '--json']);
      const j = JSON.parse(r.stdout) as { layers: unknown[] };
      console.log(`cli int4: ${j.layers.length} weights quantized`);
      rows.push([`int4, \`whittle quantize stream --threads ${threads}\` (CLI)`, r, outs.cli]);
      const cli16 = join(dir, 'lm_fp16_cli.onnx');
      const f = await cli(['quantize', 'stream', lm.modelPath, '-o', cli16, '--float16', '--json']);
      console.log(`cli fp16: ${(JSON.parse(f.stdout) as { float16: { converted: number } }).float16.converted} weights converted`);
      rows.push(['fp16, `whittle quantize stream --float16` (CLI)', f, cli16]);
    }
    console.log('\n| conversion | seconds | cpu seconds | GB/s (fp32 in, wall) | GB/s per cpu second | peak RSS | RSS at start | <= largest + 300 MB | output (.onnx + .data) |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const [name, r, out] of rows) {
      const ok = r.peakRss <= bar;
      checks.push([`${name}: peak RSS ${(r.peakRss / MB).toFixed(0)} MB <= ${(bar / MB).toFixed(0)} MB`, ok]);
      console.log(`| ${name} | ${r.seconds.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${(lm.dataBytes / 1e9 / r.seconds).toFixed(3)} | ${(lm.dataBytes / 1e9 / r.cpuSeconds).toFixed(3)} | ${(r.peakRss / MB).toFixed(0)} MB | ${r.baseRss ? `${(r.baseRss / MB).toFixed(0)} MB` : '-'} | ${ok ? 'yes' : 'NO'} (${(bar / MB).toFixed(0)} MB) | ${(fileBytes(out) / MB).toFixed(0)} MB (${(fileBytes(out) / fileBytes(lm.modelPath)).toFixed(3)}x) |`);
    }

    // a few token sequences, prefill with an empty past
    const seqs = [8, 32, 128].map((n, k) => Array.from({ length: n }, (_, i) => (i * 7919 + k * 104729 + 13) % c.vocab));
    const ref = await logitsOf(lm.modelPath, options, seqs);
    const sp = spread(ref.logits, c.vocab);
    console.log(`\nonnxruntime-node (2 threads), ${seqs.length} sequences of ${seqs.map((s) => s.length).join('/')} tokens; fp32 logits: std ${sp.std.toFixed(3)}, mean top-1 - top-2 gap ${sp.gap.toFixed(3)}:`);
    console.log('| model | load s | run s | cosine of logits (mean / min over sequences) | argmax agreement | fp32 argmax in top 5 | rms diff | max abs diff |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(`| fp32 original | ${ref.loadSeconds.toFixed(1)} | ${ref.runSeconds.toFixed(2)} | 1 | 100% | 100% | 0 | 0 |`);
    for (const [name, , out] of rows) {
      // the threaded output has the one-thread bytes (checked above): its logits are the same
      if (out === outs.int4Threads && threadedSame) continue;
      const got = await logitsOf(out, options, seqs);
      const m = compare(ref.logits, got.logits, c.vocab);
      console.log(`| ${name} | ${got.loadSeconds.toFixed(1)} | ${got.runSeconds.toFixed(2)} | ${m.cosine.toFixed(5)} / ${m.minCosine.toFixed(5)} | ${(m.argmax * 100).toFixed(1)}% | ${(m.top5 * 100).toFixed(1)}% | ${m.rms.toExponential(2)} | ${m.maxAbs.toExponential(2)} |`);
      if (name.startsWith('fp16')) checks.push([`${name}: logits cosine ${m.minCosine.toFixed(6)} >= 0.9999`, m.minCosine >= 0.9999]);
      else checks.push([`${name}: loads and runs, logits cosine ${m.minCosine.toFixed(4)} >= 0.9`, m.minCosine >= 0.9]);
    }
    checks.push([`input > 2 GB (${(lm.dataBytes / 1e9).toFixed(2)} GB)`, lm.dataBytes > 2 * 1e9]);
    console.log('\nchecks:');
    for (const [what, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  } finally {
    if (args.includes('--keep')) console.log(`outputs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
