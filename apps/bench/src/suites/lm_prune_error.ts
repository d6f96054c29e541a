/**
 * Suite `lm_prune_error` (diagnostic, no target): how well each pruning method keeps every layer's
 * output on calibration data of the zoo decoder LM — the relative output error
 * ‖X(W − Ŵ)‖² / ‖XW‖² per MatMul weight (X its input rows), from Gram matrices XᵀX — beside the
 * spread of the input channels' norms ‖x_j‖ (max / median), which is what Wanda's |w|·‖x_j‖ score
 * exploits. Wanda's score is a diagonal reading of the same error, so in a comparison group of its
 * own (row) it should beat magnitude's; SparseGPT's weight update should beat both. When a model's
 * norms are flat, Wanda ≈ magnitude.
 *
 *   pnpm bench lm_prune_error [--calib 32] [--calib-len 64]
 */
import { type Model, collectActivations, runPass } from '@whittle/graph';
import { findPrunableWeights } from '@whittle/prune';
import '@whittle/quantize';
import { calibration, each, flag, loadLm } from '../lm_zoo_data.js';

const VARIANTS: [string, string, Record<string, unknown>][] = [
  ['magnitude-50 (layer)', 'prune-unstructured', { sparsity: 0.5 }],
  ['magnitude-50 (row)', 'prune-unstructured', { sparsity: 0.5, scope: 'row' }],
  ['wanda-50 (row)', 'prune-unstructured', { sparsity: 0.5, method: 'wanda' }],
  ['wanda-50 (layer)', 'prune-unstructured', { sparsity: 0.5, method: 'wanda', scope: 'layer' }],
  ['sparsegpt-50', 'prune-sparsegpt', { sparsity: 0.5 }],
  ['magnitude-2:4', 'prune-nm', { n: 2, m: 4 }],
  ['wanda-2:4', 'prune-nm', { n: 2, m: 4, method: 'wanda' }],
  ['sparsegpt-2:4', 'prune-sparsegpt', { n: 2, m: 4 }],
];

/** Σ over output columns n of dₙᵀ G dₙ for W [K, N] stored row-major (MatMul's B). */
function quadratic(G: Float64Array, w: Float32Array | Float64Array, K: number, N: number): number {
  let total = 0;
  const d = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) d[k] = w[k * N + n]!;
    for (let i = 0; i < K; i++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += G[i * K + j]! * d[j]!;
      total += d[i]! * s;
    }
  }
  return total;
}

/** Run the suite. */
export async function run(args: string[]): Promise<void> {
  const lm = await loadLm(false);
  const calib = (): ReturnType<typeof calibration> => calibration(lm, flag(args, 'calib', 32), Math.min(flag(args, 'calib-len', 64), lm.config.maxPositions));
  const model: Model = lm.model;
  // the blocks' MatMul weights (B [K, N]); the tied LM head is a Transpose, not an initializer
  const weights = findPrunableWeights(model).filter((w) => w.opType === 'MatMul');
  const gram = new Map<string, Float64Array>(weights.map((w) => [w.input, new Float64Array(w.cols * w.cols)]));
  await collectActivations(model, [{
    names: [...gram.keys()],
    consume(values) {
      for (const [name, G] of gram) {
        const x = values.get(name)!.data as Float32Array;
        const K = Math.sqrt(G.length);
        for (let r = 0; r < x.length / K; r++) {
          for (let i = 0; i < K; i++) {
            const a = x[r * K + i]!;
            if (a !== 0) for (let j = 0; j < K; j++) G[i * K + j]! += a * x[r * K + j]!;
          }
        }
      }
    },
  }], each(calib()), { pass: 'lm_prune_error', calibrationRuntime: 'interpreter' } as Parameters<typeof collectActivations>[3]);
  const dense = new Map<string, Float32Array>();
  for (const w of weights) dense.set(w.weight, Float32Array.from((await model.graph.initializers.get(w.weight)!.data()) as Float32Array));
  const short = (name: string): string => name.replace(/^transformer\.|\.weight$/g, '').replace(/^h\./, '');
  console.log(`lm_prune_error: ${lm.name}; relative output error ‖X(W - Ŵ)‖² / ‖XW‖² per MatMul weight on ${flag(args, 'calib', 32)} calibration windows`);
  const spread = weights.map((w) => {
    const G = gram.get(w.input)!;
    const norms = Array.from({ length: w.cols }, (_, j) => Math.sqrt(G[j * w.cols + j]!)).sort((a, b) => a - b);
    return (norms[norms.length - 1]! / norms[norms.length >> 1]!).toFixed(1);
  });
  const head = ['variant', 'all', ...weights.map((w) => short(w.weight))];
  const widths = head.map((h, i) => Math.max(h.length, i === 0 ? 22 : 7));
  const line = (cells: string[]): void => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  line(head);
  line(['‖x_j‖ max / median', '', ...spread]);
  const base = weights.map((w) => quadratic(gram.get(w.input)!, dense.get(w.weight)!, w.cols, w.rows));
  for (const [name, pass, options] of VARIANTS) {
    const pruned = (await runPass(pass, model, options, { calibration: each(calib()), seed: 1, calibrationRuntime: 'interpreter' })).model;
    const errors: number[] = [];
    for (const w of weights) {
      const a = dense.get(w.weight)!;
      const b = (await pruned.graph.initializers.get(w.weight)!.data()) as Float32Array;
      errors.push(quadratic(gram.get(w.input)!, Float64Array.from(a, (v, i) => v - b[i]!), w.cols, w.rows));
    }
    const total = errors.reduce((s, e) => s + e, 0) / base.reduce((s, e) => s + e, 0);
    line([name, total.toFixed(4), ...errors.map((e, i) => (e / base[i]!).toFixed(4))]);
  }
}
