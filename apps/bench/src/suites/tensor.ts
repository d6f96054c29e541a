/**
 * Suite `tensor`: Whittle's cpu kernels against onnxruntime-node (single thread) measured in
 * the same run, plus one training epoch of an MLP. Prints medians of several repetitions, of
 * wall time and of CPU time (ratio = ort time / Whittle time: above 1 means Whittle is faster).
 */
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import {
  Rng,
  SGD,
  add,
  assign,
  conv2d,
  crossEntropy,
  engine,
  forceWasmSgemmVariant,
  hasKernel,
  mul,
  noGrad,
  sub,
  sum,
  full,
  kaimingUniform,
  matmul,
  relu,
  setBackend,
  sliceView,
  tensor,
  zeros,
  wasmSgemmVariant,
  type Tensor,
  type WasmSgemmVariant,
} from '@whittle/tensor/node';
import { singleNodeModel, type Attr } from '../onnx_model.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Medians of one side of {@link timePair}: wall time and process CPU time (user + system), ms. */
interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Median wall and CPU times (ms) of `reps` runs of `a` and of `b` after one warm-up each, the two
 * alternating run by run so that load from other processes hits both alike. CPU time (process
 * wide, so onnxruntime's own threads count) is the steadier figure on a shared machine: a
 * descheduled run inflates wall time, not CPU time.
 */
async function timePair(reps: number, a: () => unknown, b: () => unknown): Promise<[Timing, Timing]> {
  await a();
  await b();
  const t: [number[], number[], number[], number[]] = [[], [], [], []];
  const once = async (fn: () => unknown, wall: number[], cpu: number[]): Promise<void> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  };
  for (let r = 0; r < reps; r++) {
    await once(a, t[0], t[1]);
    await once(b, t[2], t[3]);
  }
  return [
    { wall: median(t[0]), cpu: median(t[1]) },
    { wall: median(t[2]), cpu: median(t[3]) },
  ];
}

function randomF32(n: number, rng: Rng): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

async function ortSession(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
}

type Row = (string | number)[];

function printTable(title: string, head: string[], rows: Row[]): void {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(c >= 100 ? 0 : c >= 10 ? 1 : 2) : c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  cells.forEach((r, k) => {
    console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '));
    if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

async function benchMatmul(rng: Rng): Promise<void> {
  const rows: Row[] = [];
  // the default build (relaxed SIMD where the engine has it) and plain SIMD, each against ORT timed
  // in the same loop; `@whittle/tensor/node` enables relaxed SIMD on Node 20
  const variants = [...new Set<WasmSgemmVariant | null>([wasmSgemmVariant(), 'simd'])];
  for (const [M, K, N, reps] of [
    [1024, 1024, 1024, 7],
    [256, 4096, 4096, 5],
  ] as [number, number, number, number][]) {
    const a = randomF32(M * K, rng);
    const b = randomF32(K * N, rng);
    const ta = tensor(a, [M, K]);
    const tb = tensor(b, [K, N]);
    const flops = 2 * M * N * K;
    const session = await ortSession(singleNodeModel('MatMul', [{ name: 'A', shape: [M, K] }, { name: 'B', shape: [K, N] }], [M, N]));
    const feeds = { A: new ort.Tensor('float32', a, [M, K]), B: new ort.Tensor('float32', b, [K, N]) };
    for (const v of variants) {
      forceWasmSgemmVariant(v);
      const [ours, theirs] = await timePair(reps, () => matmul(ta, tb).dispose(), () => session.run(feeds));
      const gOurs = flops / ours.wall / 1e6;
      const gOrt = flops / theirs.wall / 1e6;
      rows.push([`${M}x${K} @ ${K}x${N}`, wasmSgemmVariant() ?? 'js', ours.wall, gOurs, theirs.wall, gOrt, `${(theirs.wall / ours.wall).toFixed(3)}x`, ours.cpu, theirs.cpu, `${(theirs.cpu / ours.cpu).toFixed(3)}x`]);
    }
    forceWasmSgemmVariant(null);
    await session.release();
  }
  printTable('MatMul fp32, cpu (Whittle: WASM tier, relaxed = fused multiply-add; ORT: 1 thread; runs alternate)', ['shape', 'wasm build', 'whittle ms', 'GFLOP/s', 'ort ms', 'GFLOP/s', 'ratio', 'whittle cpu ms', 'ort cpu ms', 'cpu ratio'], rows);
}

async function benchConv(rng: Rng): Promise<void> {
  const rows: Row[] = [];
  const trainRows: Row[] = [];
  const cases: { name: string; x: number[]; w: number[]; pads: number[]; reps: number }[] = [
    { name: 'LeNet conv1 1x1x28x28 -> 20@5x5', x: [1, 1, 28, 28], w: [20, 1, 5, 5], pads: [0, 0, 0, 0], reps: 41 },
    { name: 'LeNet conv2 1x20x24x24 -> 50@5x5', x: [1, 20, 24, 24], w: [50, 20, 5, 5], pads: [0, 0, 0, 0], reps: 31 },
    { name: 'ResNet 1x64x56x56 -> 64@3x3 pad 1', x: [1, 64, 56, 56], w: [64, 64, 3, 3], pads: [1, 1, 1, 1], reps: 15 },
  ];
  for (const c of cases) {
    const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
    const xv = randomF32(size(c.x), rng);
    const wv = randomF32(size(c.w), rng);
    const bv = randomF32(c.w[0]!, rng);
    const x = tensor(xv, c.x);
    const w = tensor(wv, c.w);
    const bias = tensor(bv, [c.w[0]!]);
    const [, , H, W] = c.x as [number, number, number, number];
    const [O, C, kh, kw] = c.w as [number, number, number, number];
    const oh = H + c.pads[0]! + c.pads[2]! - kh + 1;
    const ow = W + c.pads[1]! + c.pads[3]! - kw + 1;
    const attrs: Attr[] = [{ name: 'pads', ints: c.pads }, { name: 'kernel_shape', ints: [kh, kw] }];
    const session = await ortSession(
      singleNodeModel('Conv', [{ name: 'X', shape: c.x }, { name: 'Wt', shape: c.w }, { name: 'Bs', shape: [O] }], [1, O, oh, ow], attrs),
    );
    const feeds = { X: new ort.Tensor('float32', xv, c.x), Wt: new ort.Tensor('float32', wv, c.w), Bs: new ort.Tensor('float32', bv, [O]) };
    const [ours, theirs] = await timePair(c.reps, () => conv2d(x, w, bias, { pads: c.pads }).dispose(), () => session.run(feeds));
    await session.release();
    const flops = 2 * O * oh * ow * C * kh * kw;
    rows.push([c.name, ours.wall, flops / ours.wall / 1e6, theirs.wall, flops / theirs.wall / 1e6, `${(theirs.wall / ours.wall).toFixed(3)}x`, ours.cpu, theirs.cpu, `${(theirs.cpu / ours.cpu).toFixed(3)}x`]);
    // training step: forward (Im2Col + Gemm/MatMul) and the x, w and bias gradients (3 GEMMs of the forward's size, Col2Im)
    const xg = tensor(xv, c.x).requireGrad();
    const wg = tensor(wv, c.w).requireGrad();
    const bg = tensor(bv, [O]).requireGrad();
    const dy = tensor(randomF32(O * oh * ow, rng), [1, O, oh, ow]);
    const step = (): void => {
      xg.grad = wg.grad = bg.grad = null;
      sum(mul(conv2d(xg, wg, bg, { pads: c.pads }), dy)).backward();
    };
    const [train] = await timePair(Math.max(5, c.reps >> 1), step, () => undefined);
    trainRows.push([c.name, train.wall, (3 * flops) / train.wall / 1e6, train.cpu]);
  }
  printTable('Conv2d fp32, cpu (Whittle conv2d with bias; ORT Conv, 1 thread; runs alternate)', ['case', 'whittle ms', 'GFLOP/s', 'ort ms', 'GFLOP/s', 'ratio', 'whittle cpu ms', 'ort cpu ms', 'cpu ratio'], rows);
  printTable('Conv2d fp32 forward + backward (x, w, bias gradients), cpu, Whittle only (GFLOP/s counts the 3 GEMMs)', ['case', 'ms', 'GFLOP/s', 'cpu ms'], trainRows);
}

async function benchMlpEpoch(): Promise<void> {
  const rng = new Rng(42);
  const samples = 7992;
  const batch = 64;
  const dims = [784, 300, 100, 10];
  // random data with MNIST's shapes (pixels in [0, 1), labels 0..9)
  const xs = new Float32Array(samples * 784);
  for (let i = 0; i < xs.length; i++) xs[i] = rng.uniform(0, 1);
  const ys = new Int32Array(samples);
  for (let i = 0; i < samples; i++) ys[i] = rng.int(10);
  const X = tensor(xs, [samples, 784]);
  const Y = tensor(ys, [samples], 'int32');
  const params: Tensor[] = [];
  for (let l = 0; l < 3; l++) {
    params.push(kaimingUniform([dims[l + 1]!, dims[l]!], rng).requireGrad());
    params.push(zeros([dims[l + 1]!]).requireGrad());
  }
  // helper E's fused SgdUpdate kernel when registered, else the same update written with ops
  const fused = hasKernel('cpu', 'SgdUpdate');
  const opt = fused ? new SGD(params, { lr: 0.05, momentum: 0.9 }) : manualSgd(params, 0.05, 0.9);
  const epoch = (): number => {
    let last = 0;
    for (let s = 0; s < samples; s += batch) {
      const e = Math.min(samples, s + batch);
      const xb = sliceView(X, [s, 0], [e, 784]);
      const yb = sliceView(Y, [s], [e]);
      let h = xb;
      for (let l = 0; l < 3; l++) {
        h = add(matmul(h, params[2 * l]!, { transB: true }), params[2 * l + 1]!);
        if (l < 2) h = relu(h);
      }
      const loss = crossEntropy(h, yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      if (e === samples) last = (loss.dataSync() as Float32Array)[0]!;
    }
    return last;
  };
  const times: number[] = [];
  let loss = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    loss = epoch();
    times.push(performance.now() - t0);
  }
  const sec = median(times) / 1000;
  printTable(
    `MLP 784-300-100-10 training epoch, cpu (ReLU, batch 64, 7,992 random samples, cross-entropy, SGD momentum 0.9${fused ? '' : ' written with mul/sub ops: SgdUpdate kernel not registered'})`,
    ['metric', 'value'],
    [
      ['epoch seconds (median of 3)', sec.toFixed(3)],
      ['samples / s', (samples / sec).toFixed(0)],
      ['last batch loss', loss.toFixed(4)],
    ],
  );
}

/** SGD with momentum from tensor ops (v ← μv + g; p ← p − lr·v), for builds without SgdUpdate. */
function manualSgd(params: Tensor[], lr: number, momentum: number): { zeroGrad(): void; step(): void } {
  const vel = params.map((p) => zeros(p.shape));
  const mu = full([], momentum);
  const rate = full([], lr);
  return {
    zeroGrad: () => params.forEach((p) => (p.grad = null)),
    step: () =>
      noGrad(() => {
        params.forEach((p, i) => {
          if (!p.grad) return;
          vel[i] = add(mul(vel[i]!, mu), p.grad);
          const next = sub(p, mul(vel[i]!, rate));
          assign(p, next); // in place: the model keeps the same tensor objects
        });
      }),
  };
}

/** Run the tensor suite. */
export async function run(_args: string[]): Promise<void> {
  await setBackend('cpu');
  console.log(`Whittle tensor benchmark — ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.version}, onnxruntime-node ${ort.env.versions.node ?? ''}`);
  console.log(`WebAssembly SIMD: ${WebAssembly.validate(SIMD_PROBE) ? 'yes' : 'no'}; backend ${engine().backendName}; ${hostVectorWidth()}`);
  const rng = new Rng(1);
  await benchMatmul(rng);
  await benchConv(rng);
  await benchMlpEpoch();
}

/**
 * The widest x86 vector FMA the host offers. onnxruntime's MLAS picks its sgemm kernel by it while
 * WebAssembly SIMD is 128-bit everywhere, so the ratio's ceiling depends on the host: about 0.5 of
 * 256-bit AVX2 and 0.25 of 512-bit AVX-512 at equal FMA throughput per instruction.
 */
function hostVectorWidth(): string {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return 'host vector width unknown';
  }
  const has = (f: string): boolean => new RegExp(`\\b${f}\\b`).test(flags);
  const width = has('avx512f') ? '512-bit (AVX-512)' : has('avx2') && has('fma') ? '256-bit (AVX2 + FMA)' : has('avx') ? '256-bit (AVX)' : '128-bit or unknown';
  return `host vector FMA ${width}; WebAssembly SIMD 128-bit`;
}

/** A tiny module using v128 (validates only where WebAssembly SIMD is supported). */
const SIMD_PROBE = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

