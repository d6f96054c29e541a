import { type Model, cloneModel } from '@whittle/graph';
import { ArgumentError, type Rng } from '@whittle/tensor';
import type { InputNorms } from './activations.js';
import { type PrunableWeight, cpuTensor, flatIndex, floatValues, resolveWeightKey, weightKey, weightTensor } from './layers.js';
import { nmMask } from './nm.js';

/** Importance scores for unstructured pruning. */
export type ScoreMethod = 'magnitude' | 'random' | 'wanda';

/** Which weights compete for removal: each layer, all layers together, or each output row. */
export type PruneScope = 'layer' | 'global' | 'row';

/** Keep-masks (1 = keep) by initializer name. */
export type Masks = Map<string, Uint8Array>;

/**
 * Scores of one weight (higher = more important), in the weight's storage order.
 * magnitude: |w|; random: uniform from `rng`; wanda: |w| · ‖x_col‖₂ (needs `norms`).
 */
export function weightScores(w: PrunableWeight, values: Float32Array, method: ScoreMethod, ctx: { rng?: Rng | undefined; norms?: InputNorms | undefined }): Float32Array {
  const s = new Float32Array(values.length);
  if (method === 'magnitude') {
    for (let i = 0; i < s.length; i++) s[i] = Math.abs(values[i]!);
  } else if (method === 'random') {
    if (!ctx.rng) throw new ArgumentError('random pruning scores need an Rng (ctx.rng)');
    // zeros stay the least important so an already-sparse model keeps its zeros
    for (let i = 0; i < s.length; i++) s[i] = values[i] === 0 ? 0 : 1e-9 + ctx.rng.next();
  } else {
    const nrm = ctx.norms;
    if (!nrm) throw new ArgumentError(`wanda scores for '${w.weight}' need input activation norms from calibration data`);
    const perGroup = w.rows / nrm.groups;
    for (let r = 0; r < w.rows; r++) {
      const g = Math.min(nrm.groups - 1, Math.floor(r / perGroup));
      for (let c = 0; c < w.cols; c++) {
        const i = flatIndex(w, r, c);
        s[i] = Math.abs(values[i]!) * Math.sqrt(nrm.sq[g * w.cols + c]!);
      }
    }
  }
  return s;
}

/** Mark the `k` lowest entries of `scores` (restricted to `indices` if given) as pruned in `mask`. */
export function pruneLowest(scores: Float32Array, k: number, mask: Uint8Array, indices?: Int32Array): void {
  const n = indices ? indices.length : scores.length;
  k = Math.max(0, Math.min(n, Math.round(k)));
  if (k === 0) return;
  const order = indices ? Int32Array.from(indices) : Int32Array.from({ length: n }, (_, i) => i);
  // sort positions by score (stable by index for determinism)
  const sorted = Array.from(order).sort((a, b) => scores[a]! - scores[b]! || a - b);
  for (let i = 0; i < k; i++) mask[sorted[i]!] = 0;
}

/** Options of {@link computeMasks}. */
export interface MaskOptions {
  method: ScoreMethod;
  /** Fraction of weights to remove (unstructured) — ignored when `nm` is set. */
  sparsity?: number;
  /** Per-layer sparsity overrides (by node or initializer name), scope 'layer'/'row' only. */
  layerSparsity?: Record<string, number> | undefined;
  scope?: PruneScope;
  /** N:M pattern along the input dimension instead of a sparsity target. */
  nm?: { n: number; m: number } | undefined;
  rng?: Rng | undefined;
  norms?: Map<string, InputNorms> | undefined;
  /** Existing masks: weights pruned there stay pruned (gradual pruning). */
  previous?: Masks | undefined;
  /** Current weight values (e.g. trained parameters) instead of the model's initializers. */
  values?: Map<string, Float32Array> | undefined;
}

/** Keep-masks for `weights` of `model` by the chosen scores, scope and target. */
export async function computeMasks(model: Model, weights: readonly PrunableWeight[], opts: MaskOptions): Promise<Masks> {
  const masks: Masks = new Map();
  const scores = new Map<string, Float32Array>();
  for (const w of weights) {
    const key = weightKey(w);
    const values = opts.values?.get(key) ?? (await floatValues(weightTensor(model, w)));
    const s = weightScores(w, values, opts.method, { rng: opts.rng, norms: opts.norms?.get(key) });
    const prev = opts.previous?.get(key);
    if (prev) for (let i = 0; i < s.length; i++) if (!prev[i]) s[i] = -1;
    scores.set(key, s);
    masks.set(key, new Uint8Array(values.length).fill(1));
  }
  if (opts.nm) {
    for (const w of weights) masks.set(weightKey(w), nmMask(scores.get(weightKey(w))!, w.shape, opts.nm.n, opts.nm.m, w.inputAxis));
    return masks;
  }
  const sparsity = opts.sparsity ?? 0;
  const scope = opts.scope ?? 'layer';
  if (scope === 'global') {
    let total = 0;
    for (const w of weights) total += scores.get(weightKey(w))!.length;
    const all = new Float32Array(total);
    let o = 0;
    for (const w of weights) {
      all.set(scores.get(weightKey(w))!, o);
      o += scores.get(weightKey(w))!.length;
    }
    const k = Math.round(sparsity * total);
    if (k === 0) return masks;
    const threshold = kthSmallest(all, k);
    // prune everything below the threshold, then ties at the threshold in layer order until k
    let left = k;
    for (const w of weights) {
      const s = scores.get(weightKey(w))!;
      const m = masks.get(weightKey(w))!;
      for (let i = 0; i < s.length; i++) if (s[i]! < threshold) (m[i] = 0), left--;
    }
    for (const w of weights) {
      const s = scores.get(weightKey(w))!;
      const m = masks.get(weightKey(w))!;
      for (let i = 0; i < s.length && left > 0; i++) if (s[i] === threshold) (m[i] = 0), left--;
    }
    return masks;
  }
  for (const w of weights) {
    const s = scores.get(weightKey(w))!;
    const m = masks.get(weightKey(w))!;
    const sp = opts.layerSparsity?.[w.node] ?? opts.layerSparsity?.[w.weight] ?? sparsity;
    if (scope === 'layer') pruneLowest(s, sp * s.length, m);
    else {
      const idx = new Int32Array(w.cols);
      for (let r = 0; r < w.rows; r++) {
        for (let c = 0; c < w.cols; c++) idx[c] = flatIndex(w, r, c);
        pruneLowest(s, sp * w.cols, m, idx);
      }
    }
  }
  return masks;
}

/** k-th smallest value (1-based k) of `a` (copy, sort). */
export function kthSmallest(a: Float32Array, k: number): number {
  const c = Float32Array.from(a).sort();
  return c[Math.max(0, Math.min(c.length - 1, k - 1))]!;
}

/** A copy of `model` whose masked weights are zero (new initializer tensors; input untouched). */
export async function applyMasks(model: Model, masks: Masks): Promise<Model> {
  const out = cloneModel(model);
  for (const [name, mask] of masks) {
    const at = resolveWeightKey(out, name);
    const t = at?.graph.initializers.get(at.name);
    if (!at || !t) throw new ArgumentError(`applyMasks: no initializer '${name}' in the model or its subgraphs; masks are keyed by initializer name ('path: name' inside a subgraph)`);
    const v = await floatValues(t);
    if (v.length !== mask.length) throw new ArgumentError(`applyMasks: mask for '${name}' has ${mask.length} entries, the tensor ${v.length}`);
    for (let i = 0; i < v.length; i++) if (!mask[i]) v[i] = 0;
    at.graph.initializers.set(at.name, cpuTensor(v, t.shape, t.dtype));
  }
  return out;
}

/** Masks of the zeros currently in the given weights (1 = nonzero), e.g. to hold them while fine-tuning. */
export async function masksFromZeros(model: Model, weightNames: Iterable<string>): Promise<Masks> {
  const masks: Masks = new Map();
  for (const name of weightNames) {
    const t = model.graph.initializers.get(name);
    if (!t) continue;
    const v = await floatValues(t);
    const m = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) m[i] = v[i] !== 0 ? 1 : 0;
    masks.set(name, m);
  }
  return masks;
}
