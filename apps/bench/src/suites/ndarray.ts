/**
 * Suite `ndarray`: should the cpu backend's strided paths be written with scijs ndarray? Copies of
 * strided views (a transposed activation, a stepped slice, a broadcast row) by Whittle's
 * `contiguous()` (one incremental-offset loop, `backends/cpu/strided.ts`) side by side with
 * ndarray's own way of doing the same copy, `ndarray-ops.assign` (cwise-compiled loops), and with
 * a hand-written `.get()` loop over the ndarray view as the naive floor. Interop costs
 * (`fromNdarray` of a contiguous and a transposed view) are listed too. Medians of several runs,
 * ratios against Whittle. `pnpm bench ndarray [--runs N]`.
 */
import { contiguous, fromNdarray, sliceView, tensor, transpose, expand, type Tensor } from '@whittle/tensor';
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import ops from 'ndarray-ops';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Medians of interleaved runs (every round times each function once, so load hits all alike). */
function timeInterleaved(fns: (() => void)[], runs: number): number[] {
  for (const f of fns) f(); // warm-up: JIT, cwise compilation
  const ts = fns.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    fns.forEach((f, k) => {
      const t0 = performance.now();
      f();
      ts[k]!.push(performance.now() - t0);
    });
  }
  return ts.map(median);
}

/** A strided copy case: the Whittle view and the equivalent ndarray view of the same data. */
interface Case {
  name: string;
  whittle: () => Tensor;
  nd: () => NdArray;
}

function filled(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (i % 977) * 0.001;
  return a;
}

function cases(): Case[] {
  const [n, c, h, w] = [1, 64, 56, 56];
  const act = filled(n * c * h * w);
  const actT = tensor(act, [n, c, h, w]);
  const actNd = ndarray(act, [n, c, h, w]);
  const mat = filled(1024 * 1024);
  const matT = tensor(mat, [1024, 1024]);
  const matNd = ndarray(mat, [1024, 1024]);
  const row = filled(1024);
  const rowT = tensor(row, [1, 1024]);
  return [
    { name: 'NCHW→NHWC 1×64×56×56', whittle: () => transpose(actT, [0, 2, 3, 1]), nd: () => actNd.transpose(0, 2, 3, 1) },
    { name: 'transpose 1024×1024', whittle: () => transpose(matT, [1, 0]), nd: () => matNd.transpose(1, 0) },
    { name: 'slice [:, ::2, 1:-1, ::2]', whittle: () => sliceView(actT, [0, 0, 1, 0], [n, c, h - 1, w], [1, 2, 1, 2]), nd: () => actNd.hi(n, c, h - 1, w).lo(0, 0, 1, 0).step(1, 2, 1, 2) },
    { name: 'broadcast row → 1024×1024', whittle: () => expand(rowT, [1024, 1024]), nd: () => ndarray(row, [1024, 1024], [0, 1]) },
  ];
}

function copyGet(src: NdArray): Float32Array {
  const out = new Float32Array(src.size);
  const shape = src.shape;
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < out.length; k++) {
    out[k] = src.get(...idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Run the ndarray suite. */
export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 15;
  console.log(`Strided copies on the cpu backend, medians of ${runs} runs (ms); ratio = Whittle time / other time (above 1 = the other is faster)`);
  console.log(`${'case'.padEnd(30)}${'whittle'.padStart(10)}${'nd-ops'.padStart(10)}${'ratio'.padStart(8)}${'nd .get'.padStart(10)}${'ratio'.padStart(8)}`);
  for (const c of cases()) {
    const view = c.whittle();
    const ndView = c.nd();
    // Same elements both ways, checked once before timing.
    const a = contiguous(view).dataSync() as Float32Array;
    const b = new Float32Array(ndView.size);
    ops.assign(ndarray(b, ndView.shape), ndView);
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) throw new Error(`bench ndarray: '${c.name}' differs at ${k}: ${a[k]} vs ${b[k]}`);
    const [tw, tn, tg] = timeInterleaved([
      () => { const t = contiguous(view); t.dataSync(); t.dispose(); },
      () => { ops.assign(ndarray(new Float32Array(ndView.size), ndView.shape), ndView); },
      () => { copyGet(ndView); },
    ], runs) as [number, number, number];
    console.log(`${c.name.padEnd(30)}${tw.toFixed(2).padStart(10)}${tn.toFixed(2).padStart(10)}${(tw / tn).toFixed(2).padStart(8)}${tg.toFixed(2).padStart(10)}${(tw / tg).toFixed(2).padStart(8)}`);
  }
  const act = filled(64 * 56 * 56);
  const contig = ndarray(act, [1, 64, 56, 56]);
  const tr = contig.transpose(0, 2, 3, 1);
  const [tc, tt] = timeInterleaved([() => fromNdarray(contig).dispose(), () => fromNdarray(tr).dispose()], runs) as [number, number];
  console.log(`fromNdarray 1×64×56×56: contiguous view ${tc.toFixed(2)} ms (shared buffer, one upload), transposed view ${tt.toFixed(2)} ms (gathered)`);
}
