/**
 * Suite `elementwise`: Whittle's cpu Add/Sub/Mul/Div (same shape, scalar, and the trailing-axis
 * broadcasts of transformers and CNNs) and the bias-gradient ReduceSum, against onnxruntime-node
 * (1 thread) running the same single-node model in the same run, runs alternating. Prints median
 * wall ms and GB/s (bytes read + written), then the forward of a zoo-style decoder LM (6 layers,
 * d 384, batch 4 × 128 tokens) through Whittle's interpreter, where these ops are the bulk of the
 * non-MatMul time. `elementwise [--large]`: --large uses 8x the op sizes ([64,512,512]; the 64 MB
 * outputs are then fresh pages per call on both sides, which dominates).
 */
import * as ort from 'onnxruntime-node';
import { runModel } from '@whittle/graph';
import { Rng, add, div, mul, setBackend, sub, sum, tensor, type Tensor } from '@whittle/tensor/node';
import { LM_VOCAB, buildDecoderLm } from '@whittle/testing/lm';
import { singleNodeModel } from '../onnx_model.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median wall and process CPU ms of `a` and of `b`, runs alternating (CPU time is the steadier on a shared machine). */
async function timePair(reps: number, a: () => unknown, b: () => unknown): Promise<[number, number, number, number]> {
  await a();
  await b();
  const t: number[][] = [[], [], [], []];
  const once = async (fn: () => unknown, k: number): Promise<void> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    t[k]!.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    t[k + 1]!.push((c.user + c.system) / 1000);
  };
  for (let r = 0; r < reps; r++) {
    await once(a, 0);
    await once(b, 2);
  }
  return t.map(median) as [number, number, number, number];
}

function randomF32(n: number, rng: Rng): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

const ops = { Add: add, Sub: sub, Mul: mul, Div: div } as const;
type OpName = keyof typeof ops;
const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);

/** Median ms of 5 interpreter forwards (after one warm-up) and a logits checksum (same code → same sum). */
async function lmForward(): Promise<{ ms: number; checksum: number }> {
  const { model, config } = buildDecoderLm({ layers: 6, dModel: 384, heads: 6, vocab: LM_VOCAB, maxPositions: 256, seed: 1 });
  const [B, S] = [4, 128];
  const int64 = (f: (i: number) => number): Tensor => tensor(BigInt64Array.from({ length: B * S }, (_, i) => BigInt(f(i))), [B, S], 'int64');
  const feeds: Record<string, Tensor> = { input_ids: int64((i) => (i * 7919) % LM_VOCAB), attention_mask: int64(() => 1), position_ids: int64((i) => i % S) };
  for (let l = 0; l < config.layers; l++) {
    for (const k of ['key', 'value']) feeds[`past_key_values.${l}.${k}`] = tensor(new Float32Array(0), [B, config.heads, 0, config.headDim]);
  }
  const times: number[] = [];
  let checksum = 0;
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    const out = await runModel(model, feeds);
    const logits = out.get('logits')!.dataSync() as Float32Array;
    if (r > 0) times.push(performance.now() - t0);
    checksum = 0;
    for (let i = 0; i < logits.length; i += 997) checksum += logits[i]!;
    for (const t of out.values()) t.dispose();
  }
  return { ms: median(times), checksum };
}

export async function run(args: string[]): Promise<void> {
  await setBackend('cpu');
  const rng = new Rng(1);
  const big = args.includes('--large') ? 8 : 1;
  const reps = 7;
  const cases: { name: string; op: OpName; a: number[]; b: number[] }[] = [
    { name: 'same shape', op: 'Add', a: [big * 8, 512, 512], b: [big * 8, 512, 512] },
    { name: 'same shape', op: 'Mul', a: [big * 8, 512, 512], b: [big * 8, 512, 512] },
    { name: 'scalar', op: 'Mul', a: [big * 8, 512, 512], b: [] },
    { name: '[..., N] + [N] bias', op: 'Add', a: [big * 8, 512, 512], b: [512] },
    { name: '[..., N] * [N] LN weight', op: 'Mul', a: [big * 8, 512, 512], b: [512] },
    { name: '[..., N] - [..., 1] row stat', op: 'Sub', a: [big * 8, 512, 512], b: [big * 8, 512, 1] },
    { name: '[..., N] / [..., 1] row stat', op: 'Div', a: [big * 8, 512, 512], b: [big * 8, 512, 1] },
    { name: 'NCHW + [C,1,1]', op: 'Add', a: [big * 2, 64, 128, 128], b: [64, 1, 1] },
  ];
  const head = ['op', 'case', 'a shape', 'whittle ms', 'GB/s', 'cpu ms', 'ort ms', 'GB/s', 'cpu ms', 'ort/whittle cpu'];
  const rows: string[][] = [];
  const f = (x: number): string => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2);
  for (const c of cases) {
    const av = randomF32(size(c.a), rng);
    const bv = randomF32(size(c.b), rng);
    const ta = tensor(av, c.a);
    const tb = tensor(bv, c.b);
    const session = await ort.InferenceSession.create(
      singleNodeModel(c.op, [{ name: 'A', shape: c.a }, { name: 'B', shape: c.b }], c.a),
      { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
    );
    const feeds = { A: new ort.Tensor('float32', av, c.a), B: new ort.Tensor('float32', bv, c.b) };
    const fn = ops[c.op];
    // the first large allocations of a process are slow (fresh pages) for both sides: run the
    // first case once untimed
    if (c === cases[0]) await timePair(reps, () => fn(ta, tb).dispose(), () => session.run(feeds));
    const [ours, oursCpu, theirs, theirsCpu] = await timePair(reps, () => fn(ta, tb).dispose(), () => session.run(feeds));
    const bytes = 4 * (2 * av.length + bv.length);
    rows.push([c.op, c.name, `[${c.a.join(',')}]`, f(ours), f(bytes / ours / 1e6), f(oursCpu), f(theirs), f(bytes / theirs / 1e6), f(theirsCpu), `${(theirsCpu / oursCpu).toFixed(2)}x`]);
    await session.release();
    ta.dispose();
    tb.dispose();
  }
  // the bias gradient of [..., N] + [N]: a sum over all leading axes (no ORT baseline: its
  // ReduceSum takes axes as an initializer, which singleNodeModel does not write)
  for (const [shape, axes, name] of [
    [[big * 8 * 512, 512], [0], 'sum over rows (bias grad)'],
    [[big * 8 * 512, 512], [1], 'sum over last axis'],
    [[big * 2, 64, 128, 128], [0, 2, 3], 'NCHW sum to [C] (bias grad)'],
  ] as [number[], number[], string][]) {
    const x: Tensor = tensor(randomF32(size(shape), rng), shape);
    const [ours, oursCpu] = await timePair(reps, () => sum(x, axes).dispose(), () => undefined);
    rows.push(['ReduceSum', name, `[${shape.join(',')}]`, f(ours), f((4 * size(shape)) / ours / 1e6), f(oursCpu), '-', '-', '-', '-']);
    x.dispose();
  }
  const cells = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  console.log('\nElement-wise fp32, cpu (ORT: 1 thread; runs alternate; medians of 7 of wall and process CPU time)');
  cells.forEach((r, k) => {
    console.log(r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  const lm = await lmForward();
  console.log(`\nDecoder LM l6-d384 forward [4 x 128 tokens], interpreter on cpu: median of 5 ${lm.ms.toFixed(0)} ms (logits checksum ${lm.checksum})`);
}
