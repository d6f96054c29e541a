import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { unsupported } from './util.js';

/**
 * ai.onnx.ml TreeEnsemble (opset 5): every row of X walks each tree from its root — node modes
 * ≤, <, ≥, >, =, ≠ and set membership, NaN features taking the true branch where the node says
 * so — to a leaf adding its weight to its target; the trees' contributions are summed, averaged,
 * or their min/max taken (a target no leaf reached is 0, as in onnxruntime), then post-transformed
 * as the operator defines the codes: 1 softmax, 2 logistic (onnxruntime swaps these two),
 * 3 softmax with zeros, 4 probit.
 * Host work: trees are branching, not tensor algebra; the result goes to the node's backend.
 */
/** A numeric attribute given as a tensor (or, for splits and weights, as floats). */
const num = async (ctx: OpContext, name: string): Promise<number[]> => {
  const t = ctx.tensorAttr(name);
  return t ? Array.from(await t.toFloat64()) : (ctx.floats(name) ?? []);
};

/** Probit: √2 · erf⁻¹(2p − 1), by Giles' single-precision approximation of erf⁻¹. */
function probit(p: number): number {
  const x = 2 * p - 1;
  let w = -Math.log((1 - x) * (1 + x));
  let r: number;
  if (w < 5) {
    w -= 2.5;
    r = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) r = c + r * w;
  } else {
    w = Math.sqrt(w) - 3;
    r = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) r = c + r * w;
  }
  return Math.SQRT2 * r * x;
}

registerOp('TreeEnsemble', async ([x], ctx) => {
  if (x!.rank !== 2 || !T.isFloat(x!.dtype)) unsupported(ctx, `X ${x!.dtype} [${x!.shape.join(',')}] (expected float [N, F])`);
  const [rows, features] = x!.shape as [number, number];
  const values = await x!.toFloat64();
  const roots = ctx.ints('tree_roots') ?? unsupported(ctx, 'a missing tree_roots');
  const featureIds = ctx.ints('nodes_featureids') ?? [];
  const trueIds = ctx.ints('nodes_truenodeids') ?? [];
  const falseIds = ctx.ints('nodes_falsenodeids') ?? [];
  const trueLeaf = ctx.ints('nodes_trueleafs') ?? [];
  const falseLeaf = ctx.ints('nodes_falseleafs') ?? [];
  const missingTrue = ctx.ints('nodes_missing_value_tracks_true') ?? [];
  const modes = await num(ctx, 'nodes_modes');
  const splits = await num(ctx, 'nodes_splits');
  const targets = ctx.ints('leaf_targetids') ?? [];
  const weights = await num(ctx, 'leaf_weights');
  const nTargets = ctx.int('n_targets', 1);
  const aggregate = ctx.int('aggregate_function', 1);
  const post = ctx.int('post_transform', 0);
  // set-membership nodes take, in node order, the NaN-separated groups of membership_values
  const members = new Map<number, Set<number>>();
  const groups: number[][] = [[]];
  for (const v of await num(ctx, 'membership_values')) (Number.isNaN(v) ? groups.push([]) : groups[groups.length - 1]!.push(v));
  let g = 0;
  modes.forEach((m, i) => m === 6 && members.set(i, new Set(groups[g++] ?? [])));
  const test = (i: number, v: number): boolean => {
    if (Number.isNaN(v)) return missingTrue[i] === 1;
    const s = splits[i]!;
    switch (modes[i]) {
      case 0: return v <= s;
      case 1: return v < s;
      case 2: return v >= s;
      case 3: return v > s;
      case 4: return v === s;
      case 5: return v !== s;
      case 6: return members.get(i)!.has(v);
      default: return unsupported(ctx, `node mode ${modes[i]}`);
    }
  };
  const out = new Float64Array(rows * nTargets);
  for (let r = 0; r < rows; r++) {
    const acc = new Array<number | undefined>(nTargets).fill(undefined);
    for (const root of roots) {
      let node = root;
      for (let steps = 0; ; steps++) {
        if (steps > modes.length) unsupported(ctx, `a tree without a leaf from root ${root}`);
        const feature = featureIds[node]!;
        if (feature < 0 || feature >= features) unsupported(ctx, `feature ${feature} of ${features}`);
        const taken = test(node, values[r * features + feature]!);
        const next = taken ? trueIds[node]! : falseIds[node]!;
        if ((taken ? trueLeaf : falseLeaf)[node] !== 1) {
          node = next;
          continue;
        }
        const t = targets[next]!;
        const w = weights[next]!;
        const a = acc[t];
        acc[t] = a === undefined ? w : aggregate === 2 ? Math.min(a, w) : aggregate === 3 ? Math.max(a, w) : a + w;
        break;
      }
    }
    const row = acc.map((a) => (a === undefined ? 0 : aggregate === 0 ? a / roots.length : a));
    if (post === 1 || post === 3) {
      // softmax; SOFTMAX_ZERO leaves zeros at zero
      const m = Math.max(...row);
      const e = row.map((v) => (post === 3 && v === 0 ? 0 : Math.exp(v - m)));
      const sum = e.reduce((s, v) => s + v, 0);
      row.forEach((_, k) => (row[k] = sum > 0 ? e[k]! / sum : 0));
    } else if (post === 2) row.forEach((v, k) => (row[k] = 1 / (1 + Math.exp(-v))));
    else if (post === 4) row.forEach((v, k) => (row[k] = probit(v)));
    out.set(row, r * nTargets);
  }
  return [T.tensor(Array.from(out), [rows, nTargets], x!.dtype, { backend: ctx.backend })];
}, 'ai.onnx.ml');
