/**
 * Suite `lowrank`: exact (float64; Golub–Kahan above 256, Jacobi below) vs randomized (Halko et al.) SVD — time and
 * truncation error on n×n matrices with a decaying spectrum (64 strong directions + a Gaussian
 * noise floor), rank n/16.
 *
 *   pnpm bench lowrank [sizes…] [--exact-max N]
 *   pnpm bench lowrank --tucker [--runs N]
 *
 * Defaults: sizes 1024 2048 4096 with the exact SVD at every size (--exact-max limits it; sizes
 * above it get an n³ extrapolation, labelled as such).
 *
 * `--tucker`: what the Tucker-2 conv factorization computes per layer — the energies of both
 * unfoldings (rank selection) and the leading factors at 90 % energy — by the Gram
 * eigendecomposition (`singularSubspaces`, one per unfolding, one for both of a pointwise conv)
 * against the exact SVDs (`svd` of each unfolding) it replaced, median of `--runs` (default 5)
 * runs each, with the largest energy and subspace differences.
 */
import { type Matrix, Rng, frobeniusNorm, matrix, randomizedSvd, reconstructSvd, singularSubspaces, svd } from '@whittle/tensor';

function testMatrix(n: number, rng: Rng): Matrix {
  const k = 64;
  const a = new Float64Array(n * k);
  const b = new Float64Array(k * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  for (let i = 0; i < b.length; i++) b[i] = rng.normal();
  const m = matrix(n, n);
  const d = m.data;
  const noise = 0.05 * Math.sqrt(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) d[i * n + j] = noise * rng.normal();
    for (let r = 0; r < k; r++) {
      const f = a[i * k + r]! * Math.pow(0.93, r);
      if (f === 0) continue;
      const br = r * n;
      for (let j = 0; j < n; j++) d[i * n + j] = d[i * n + j]! + f * b[br + j]!;
    }
  }
  return m;
}

function relErr(a: Matrix, u: Matrix, s: Float64Array, vt: Matrix): number {
  const rec = reconstructSvd(u, s, vt);
  let num = 0;
  for (let i = 0; i < a.data.length; i++) num += (a.data[i]! - rec.data[i]!) ** 2;
  return Math.sqrt(num) / frobeniusNorm(a);
}

/** A conv weight [n, c, k2] with a decaying spectrum along both channel modes (like trained weights). */
function convWeight(n: number, c: number, k2: number, rng: Rng): Float64Array {
  const w = new Float64Array(n * c * k2);
  for (let o = 0; o < n; o++) for (let i = 0; i < c; i++) {
    const f = Math.pow(0.985, o) * Math.pow(0.985, i);
    for (let s = 0; s < k2; s++) w[(o * c + i) * k2 + s] = f * rng.normal();
  }
  return w;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Rank reaching 90 % of the energy in a descending list of squared singular values. */
function rank90(e: ArrayLike<number>): number {
  let all = 0;
  for (let i = 0; i < e.length; i++) all += e[i]!;
  let acc = 0;
  for (let i = 0; i < e.length; i++) {
    acc += e[i]!;
    if (acc >= 0.9 * all) return i + 1;
  }
  return e.length;
}

/** ‖(I − X·Xᵀ)·Y‖_F over the first r columns of X (rows×xc) and Y (rows×yc). */
function subspaceGap(x: Matrix, y: Matrix, r: number): number {
  let f = 0;
  for (let q = 0; q < r; q++) {
    const res = Float64Array.from({ length: y.rows }, (_, i) => y.data[i * y.cols + q]!);
    for (let p = 0; p < r; p++) {
      let d = 0;
      for (let i = 0; i < x.rows; i++) d += x.data[i * x.cols + p]! * res[i]!;
      for (let i = 0; i < x.rows; i++) res[i] = res[i]! - d * x.data[i * x.cols + p]!;
    }
    for (const v of res) f += v * v;
  }
  return Math.sqrt(f);
}

function runTucker(runs: number): void {
  const shapes: [number, number, number][] = [[480, 480, 1], [960, 160, 1], [256, 128, 9], [64, 576, 9]];
  for (const [n, c, k2] of shapes) {
    const w = convWeight(n, c, k2, new Rng(n + c + k2));
    const a0 = matrix(n, c * k2, w);
    const a1 = matrix(c, n * k2);
    for (let o = 0; o < n; o++) for (let i = 0; i < c; i++) for (let s = 0; s < k2; s++) a1.data[i * n * k2 + o * k2 + s] = w[(o * c + i) * k2 + s]!;
    const oldT: number[] = [];
    const newT: number[] = [];
    let old: { s0: Float64Array; s1: Float64Array; u0: Matrix; u1: Matrix } | undefined;
    let got: { e0: Float64Array; e1: Float64Array; u0: Matrix; u1: Matrix; r0: number; r1: number } | undefined;
    for (let run = 0; run < runs; run++) {
      let t = performance.now();
      const x0 = svd(a0);
      const x1 = svd(a1);
      oldT.push(performance.now() - t);
      old = { s0: x0.s, s1: x1.s, u0: x0.u, u1: x1.u };
      t = performance.now();
      const g0 = singularSubspaces(a0);
      const g1 = k2 === 1 ? g0 : singularSubspaces(a1);
      const r0 = rank90(g0.energies);
      const r1 = rank90(g1.energies);
      let u0: Matrix;
      let u1: Matrix;
      if (k2 === 1) {
        const both = g0.leading(r0, r1);
        u0 = both.u;
        u1 = both.v;
      } else {
        u0 = g0.leading(r0, 0).u;
        u1 = g1.leading(r1, 0).u;
      }
      newT.push(performance.now() - t);
      got = { e0: g0.energies, e1: g1.energies, u0, u1, r0, r1 };
    }
    const o = old!;
    const g = got!;
    const r0 = rank90(Float64Array.from(o.s0, (v) => v * v));
    const r1 = rank90(Float64Array.from(o.s1, (v) => v * v));
    let de = 0;
    for (const [s, e] of [[o.s0, g.e0], [o.s1, g.e1]] as const) for (let i = 0; i < s.length; i++) de = Math.max(de, Math.abs(s[i]! ** 2 - e[i]!) / s[0]! ** 2);
    const gap = Math.max(subspaceGap(g.u0, o.u0, r0), subspaceGap(g.u1, o.u1, r1));
    const to = median(oldT);
    const tn = median(newT);
    console.log(
      `tucker2 ${n}x${c}x${k2} ranks ${g.r1}x${g.r0} (exact: ${r1}x${r0}): exact SVDs ${to.toFixed(0)} ms, ` +
      `Gram ${tn.toFixed(0)} ms (median of ${runs}); ${(to / tn).toFixed(1)}x; max energy difference ${de.toExponential(1)} of σ₁², subspace gap ${gap.toExponential(1)}`,
    );
  }
}

/** Run the lowrank suite. */
export async function run(argv: string[]): Promise<void> {
  if (argv.includes('--tucker')) {
    const at = argv.indexOf('--runs');
    runTucker(at >= 0 ? Number(argv[at + 1]) : 5);
    return;
  }
  const args = argv;
  const exactMaxAt = args.indexOf('--exact-max');
  const exactMax = exactMaxAt >= 0 ? Number(args[exactMaxAt + 1]) : Infinity;
  const sizes = args.filter((a, i) => !a.startsWith('--') && (exactMaxAt < 0 || i !== exactMaxAt + 1)).map(Number);
  if (!sizes.length) sizes.push(1024, 2048, 4096);

  const rows: string[] = [];
  let lastExact: { n: number; seconds: number } | undefined;
  for (const n of sizes) {
    const rng = new Rng(n);
    const a = testMatrix(n, rng);
    const rank = n / 16;
    const t0 = performance.now();
    const r = randomizedSvd(a, rank, { rng: new Rng(1), oversampling: 10, powerIterations: 2 });
    const tr = (performance.now() - t0) / 1000;
    const er = relErr(a, r.u, r.s, r.vt);
    let line = `n=${n} rank=${rank}: randomized ${tr.toFixed(1)} s, rel. error ${er.toFixed(5)}`;
    if (n <= exactMax) {
      const t1 = performance.now();
      const e = svd(a);
      const te = (performance.now() - t1) / 1000;
      lastExact = { n, seconds: te };
      let tail = 0;
      let all = 0;
      e.s.forEach((v, i) => {
        all += v * v;
        if (i >= rank) tail += v * v;
      });
      const opt = Math.sqrt(tail / all);
      let sv = 0;
      for (let i = 0; i < rank; i++) sv = Math.max(sv, Math.abs(r.s[i]! - e.s[i]!) / e.s[i]!);
      line += `; exact ${te.toFixed(1)} s, optimal rank-${rank} error ${opt.toFixed(5)} (randomized/optimal ${(er / opt).toFixed(4)}), max rel. singular value error ${sv.toExponential(2)}; speed-up ${(te / tr).toFixed(1)}x`;
    } else if (lastExact) {
      const est = lastExact.seconds * (n / lastExact.n) ** 3;
      line += `; exact not run (extrapolated from n=${lastExact.n} as n³: ~${(est / 60).toFixed(0)} min)`;
    }
    console.log(line);
    rows.push(line);
  }
}
