/**
 * Suite `lowrank`: exact (float64; Golub–Kahan above 256, Jacobi below) vs randomized (Halko et al.) SVD — time and
 * truncation error on n×n matrices with a decaying spectrum (64 strong directions + a Gaussian
 * noise floor), rank n/16.
 *
 *   pnpm bench lowrank [sizes…] [--exact-max N]
 *
 * Defaults: sizes 1024 2048 4096 with the exact SVD at every size (--exact-max limits it; sizes
 * above it get an n³ extrapolation, labelled as such).
 */
import { type Matrix, Rng, frobeniusNorm, matrix, randomizedSvd, reconstructSvd, svd } from '@whittle/tensor';

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

/** Run the lowrank suite. */
export async function run(argv: string[]): Promise<void> {
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
