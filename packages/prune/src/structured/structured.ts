import { type AttributeValue, type Model, cloneModel, definePass, defineOptions, eliminateDeadCode, throwIfAborted } from '@whittle/graph';
import { ArgumentError } from '@whittle/tensor';
import { cpuTensor, floatValues } from '../layers.js';
import { sparsityReport } from '../report.js';
import { type ChannelAnalysis, analyzeChannels, find } from './channels.js';

/** How channel importance is measured. */
export type ChannelCriterion = 'l1' | 'l2' | 'bn-scale';

/** Options of {@link selectChannels} / the `prune-structured` pass. */
export interface StructuredOptions {
  /** Fraction of each coupled channel group to remove. */
  sparsity: number;
  criterion?: ChannelCriterion;
  /** Per-producer (node name) overrides of `sparsity`. */
  layerSparsity?: Record<string, number> | undefined;
  /** Only prune channels of these producer nodes (default: all). */
  include?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  /** Kept channel counts are rounded up to a multiple of this (default 1). */
  channelMultiple?: number;
}

/** Per channel score of a producer (L1/L2 norm of its filter, or |BatchNorm scale|). */
async function producerScores(model: Model, a: ChannelAnalysis, criterion: ChannelCriterion): Promise<Map<string, Float64Array>> {
  const out = new Map<string, Float64Array>();
  for (const p of a.producers) {
    const w = model.graph.initializers.get(p.weight)!;
    const rows = w.shape[p.outAxis]!;
    const scores = new Float64Array(rows);
    if (criterion === 'bn-scale' && p.bnScale) {
      const s = await floatValues(model.graph.initializers.get(p.bnScale)!);
      for (let r = 0; r < rows; r++) scores[r] = Math.abs(s[r]!);
    } else {
      const v = await floatValues(w);
      const cols = v.length / rows;
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) {
          const x = p.outAxis === 0 ? v[r * cols + c]! : v[c * rows + r]!;
          s += criterion === 'l2' ? x * x : Math.abs(x);
        }
        scores[r] = criterion === 'l2' ? Math.sqrt(s) : s;
      }
    }
    // normalize so producers tied through residual adds weigh equally
    let mean = 0;
    for (const s of scores) mean += s / rows;
    if (mean > 0) for (let r = 0; r < rows; r++) scores[r]! /= mean;
    out.set(p.node, scores);
  }
  return out;
}

/** A set of channel roots pruned together (producers coupled through residual adds). */
export interface ChannelCluster {
  producers: string[];
  channels: number;
  removed: number;
  prunable: boolean;
}

/**
 * Choose the channels (union-find roots) to remove: within each cluster of coupled producers,
 * the lowest-scoring `sparsity` fraction of channel groups (a group's score is the sum of its
 * members' normalized scores). Fixed groups are never removed; at least one channel stays.
 */
export async function selectChannels(model: Model, a: ChannelAnalysis, opts: StructuredOptions): Promise<{ removed: Set<number>; clusters: ChannelCluster[] }> {
  const scores = await producerScores(model, a, opts.criterion ?? 'l1');
  const parent = a.parent;
  const fixedRoots = new Set([...a.fixed].map((i) => find(parent, i)));
  // cluster producers that share roots
  const rootOwner = new Map<number, number>();
  const pc = a.producers.map((_, i) => i);
  const pf = (i: number): number => {
    while (pc[i] !== i) i = pc[i] = pc[pc[i]!]!;
    return i;
  };
  a.producers.forEach((p, i) => {
    for (const id of a.spaces.get(p.value)!.ids) {
      const r = find(parent, id);
      const o = rootOwner.get(r);
      if (o === undefined) rootOwner.set(r, i);
      else {
        const x = pf(o);
        const y = pf(i);
        if (x !== y) pc[Math.max(x, y)] = Math.min(x, y);
      }
    }
  });
  const clusters = new Map<number, number[]>();
  a.producers.forEach((_, i) => clusters.set(pf(i), [...(clusters.get(pf(i)) ?? []), i]));
  const removed = new Set<number>();
  const report: ChannelCluster[] = [];
  const mult = Math.max(1, opts.channelMultiple ?? 1);
  for (const members of clusters.values()) {
    const rootScore = new Map<number, number>();
    let wanted = -1;
    let allowed = true;
    for (const i of members) {
      const p = a.producers[i]!;
      if ((opts.include?.length && !opts.include.includes(p.node)) || opts.exclude?.includes(p.node)) allowed = false;
      const sp = opts.layerSparsity?.[p.node] ?? opts.sparsity;
      wanted = Math.max(wanted, sp);
      const s = scores.get(p.node)!;
      a.spaces.get(p.value)!.ids.forEach((id, k) => {
        const r = find(parent, id);
        rootScore.set(r, (rootScore.get(r) ?? 0) + s[k]!);
      });
    }
    const roots = [...rootScore.keys()];
    const candidates = roots.filter((r) => !fixedRoots.has(r)).sort((x, y) => rootScore.get(x)! - rootScore.get(y)! || x - y);
    let keep = Math.max(1, roots.length - Math.floor(wanted * roots.length));
    keep = Math.min(roots.length, Math.ceil(keep / mult) * mult);
    const n = allowed ? Math.max(0, Math.min(candidates.length, roots.length - keep)) : 0;
    for (let k = 0; k < n; k++) removed.add(candidates[k]!);
    report.push({ producers: members.map((i) => a.producers[i]!.node), channels: roots.length, removed: n, prunable: candidates.length > 0 && allowed });
  }
  return { removed, clusters: report };
}

/** Slice `values` (shape) along `axis`, keeping `keep` indices in order. */
export function sliceAxis(values: Float32Array, shape: readonly number[], axis: number, keep: readonly number[]): { values: Float32Array; shape: number[] } {
  let pre = 1;
  let post = 1;
  for (let i = 0; i < axis; i++) pre *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) post *= shape[i]!;
  const len = shape[axis]!;
  const out = new Float32Array(pre * keep.length * post);
  let o = 0;
  for (let p = 0; p < pre; p++) {
    for (const k of keep) {
      const src = (p * len + k) * post;
      out.set(values.subarray(src, src + post), o);
      o += post;
    }
  }
  const s = [...shape];
  s[axis] = keep.length;
  return { values: out, shape: s };
}

/**
 * Remove channels from a copy of the model: slice every initializer tied to a removed channel
 * (producer weights and biases, BatchNorm parameters, consumer input channels — a Flatten turns
 * one channel into a block of C·H·W features —, broadcast constants), update depthwise `group`s,
 * and drop stale value_info.
 */
export async function removeChannels(model: Model, a: ChannelAnalysis, removed: ReadonlySet<number>): Promise<Model> {
  const out = cloneModel(model);
  const g = out.graph;
  const keptOf = (value: string, expand: boolean): number[] => {
    const s = a.spaces.get(value)!;
    const keep: number[] = [];
    s.ids.forEach((id, k) => {
      if (removed.has(find(a.parent, id))) return;
      if (!expand) keep.push(k);
      else for (let b = 0; b < s.block; b++) keep.push(k * s.block + b);
    });
    return keep;
  };
  const tensors = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const act of a.actions) {
    const s = a.spaces.get(act.value)!;
    const keep = keptOf(act.value, true);
    if (keep.length === s.ids.length * s.block) continue;
    let cur = tensors.get(act.init);
    if (!cur) {
      const t = g.initializers.get(act.init);
      if (!t) throw new ArgumentError(`structured pruning: initializer '${act.init}' not found`);
      cur = { values: await floatValues(t), shape: [...t.shape] };
    }
    if (cur.shape[act.axis] !== s.ids.length * s.block) throw new ArgumentError(`structured pruning: '${act.init}' axis ${act.axis} has ${cur.shape[act.axis]} entries, expected ${s.ids.length * s.block}`);
    tensors.set(act.init, sliceAxis(cur.values, cur.shape, act.axis, keep));
  }
  for (const [name, t] of tensors) g.initializers.set(name, cpuTensor(t.values, t.shape));
  for (const u of a.groupUpdates) {
    const node = g.nodes.find((n) => n.name === u.node.name && n.opType === u.node.opType)!;
    const attr: AttributeValue = { type: 'int', value: keptOf(u.value, false).length };
    node.attributes.set('group', attr);
  }
  for (const [value, s] of a.spaces) if (s.ids.some((id) => removed.has(find(a.parent, id)))) g.valueInfo.delete(value);
  eliminateDeadCode(g);
  return out;
}

const structuredOptions = defineOptions({
  sparsity: { type: 'number', min: 0, max: 1, default: 0.5, description: 'fraction of channels (Conv filters, Gemm/MatMul output neurons) removed in each group of coupled layers' },
  criterion: { type: 'string', enum: ['l1', 'l2', 'bn-scale'] as const, default: 'l1', description: "channel importance: L1 or L2 norm of the filter, or |scale| of the BatchNormalization after it (falls back to L1)" },
  layerSparsity: { type: 'object', description: 'per-layer overrides {producerNodeName: fraction}' },
  include: { type: 'string[]', description: 'only prune the output channels of these nodes' },
  exclude: { type: 'string[]', default: [], description: 'never prune the output channels of these nodes' },
  channelMultiple: { type: 'number', integer: true, min: 1, default: 1, description: 'round kept channel counts up to a multiple of this (hardware friendly sizes)' },
});

/**
 * `prune-structured`: remove whole Conv filters and Gemm/MatMul output neurons with real graph
 * surgery, so the written model has smaller tensors and fewer FLOPs. Channels tied by residual
 * Add/Mul/Sub, Concat, BatchNorm, pooling, Flatten and depthwise convs are removed together;
 * channels reaching a graph output (or an op the analysis does not follow) are kept.
 */
export const pruneStructured = definePass({
  specificationVersion: 'v1',
  name: 'prune-structured',
  description: 'Remove Conv filters and Gemm/MatMul neurons (L1/L2 norm or BatchNorm scale) with graph surgery across residual adds, concats, BN and Flatten.',
  optionsSchema: structuredOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const before = await sparsityReport(model);
    const a = analyzeChannels(model);
    throwIfAborted(ctx.signal, 'prune-structured');
    ctx.onProgress(0.3, 'analyzed channel groups');
    const { removed, clusters } = await selectChannels(model, a, {
      sparsity: o.sparsity,
      criterion: o.criterion,
      layerSparsity: o.layerSparsity as Record<string, number> | undefined,
      include: o.include,
      exclude: o.exclude,
      channelMultiple: o.channelMultiple,
    });
    throwIfAborted(ctx.signal, 'prune-structured');
    const out = await removeChannels(model, a, removed);
    const after = await sparsityReport(out);
    const layers = a.producers.map((p) => ({
      node: p.node,
      channelsBefore: model.graph.initializers.get(p.weight)!.shape[p.outAxis]!,
      // a layer whose output no longer reaches the graph outputs is removed as dead code
      channelsAfter: out.graph.initializers.get(p.weight)?.shape[p.outAxis] ?? 0,
    }));
    const removedCount = layers.reduce((s, l) => s + l.channelsBefore - l.channelsAfter, 0);
    ctx.onProgress(1, 'done');
    return {
      model: out,
      report: {
        changed: removed.size > 0,
        summary: `prune-structured: removed ${removedCount} channels (${o.criterion}); parameters ${before.parameters} → ${after.parameters}, FLOPs ${before.flopsDense} → ${after.flopsDense}`,
        stats: {
          channelsRemoved: removedCount,
          parametersBefore: before.parameters,
          parametersAfter: after.parameters,
          flopsBefore: before.flopsDense,
          flopsAfter: after.flopsDense,
          weightBytesBefore: before.weightBytes,
          weightBytesAfter: after.weightBytes,
          weightGzipBytesBefore: before.weightGzipBytes,
          weightGzipBytesAfter: after.weightGzipBytes,
        },
        details: { layers, clusters, fixed: a.barriers.map((b) => b.reason) },
      },
    };
  },
});
