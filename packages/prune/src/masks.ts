import { type Model, cloneModel } from '@whittle/graph';
import { ArgumentError, type Rng } from '@whittle/tensor';
import type { InputNorms } from './activations.js';
import { type PrunableWeight, cpuTensor, flatIndex, floatValues, resolveWeightKey, weightKey, weightTensor } from './layers.js';
import { nmMask } from './nm.js';
import { selectKth } from './select.js';

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

/**
 * Mark the `k` lowest entries of `scores` (restricted to `indices` if given) as pruned in `mask`:
 * the first `k` in order of (score, index), so equal scores go lowest index first (deterministic).
 * Finds the k-th score by selection instead of sorting positions with a comparator (which took
 * seconds per million weights); NaN scores count as the highest.
 */
export function pruneLowest(scores: Float32Array, k: number, mask: Uint8Array, indices?: Int32Array): void {
  const n = indices ? indices.length : scores.length;
  k = Math.max(0, Math.min(n, Math.round(k)));
  if (k === 0) return;
  const numbers = new Float32Array(n);
  let count = 0;
  for (let j = 0; j < n; j++) {
    const v = scores[indices ? indices[j]! : j]!;
    if (v === v) numbers[count++] = v;
  }
  if (k > count) {
    // more to prune than there are numbers: every number and the lowest-indexed NaNs
    const nan: number[] = [];
    for (let j = 0; j < n; j++) {
      const i = indices ? indices[j]! : j;
      if (Number.isNaN(scores[i]!)) nan.push(i);
      else mask[i] = 0;
    }
    nan.sort((a, b) => a - b);
    for (let j = 0; j < k - count; j++) mask[nan[j]!] = 0;
    return;
  }
  const t = selectKth(numbers.subarray(0, count), k - 1);
  // below the k-th score: pruned; equal to it: as many as are left, lowest index first
  const ties: number[] = [];
  let below = 0;
  for (let j = 0; j < n; j++) {
    const i = indices ? indices[j]! : j;
    const v = scores[i]!;
    if (v < t) {
      mask[i] = 0;
      below++;
    } else if (v === t) ties.push(i);
  }
  if (indices) ties.sort((a, b) => a - b);
  for (let j = 0; j < k - below; j++) mask[ties[j]!] = 0;
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

/** k-th smallest value (1-based k, clamped to the array) of `a`, which is left unchanged; NaN ranks highest. */
export function kthSmallest(a: Float32Array, k: number): number {
  const c = Float32Array.from(a);
  const at = Math.max(0, Math.min(c.length - 1, k - 1));
  // selection is linear where a sort of every score in a model is n log n; NaN needs the sort's order
  return c.some((v) => v !== v) ? c.sort()[at]! : selectKth(c, at);
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
