import { type AttributeValue, type Model, cloneModel, definePass, defineOptions, eliminateDeadCode, isDefaultDomain, throwIfAborted } from '@whittle/graph';
import { ArgumentError } from '@whittle/tensor';
import { cpuTensor, findPrunableWeights, floatValues } from '../layers.js';
import { integerLayersNote } from '../nothing.js';
import { sparsityReport } from '../report.js';
import { compensateRemovedChannels } from './bias_compensation.js';
import { type ChannelAnalysis, analyzeChannels, find } from './channels.js';
import { analyzeFusedHeads, fusedGroupScores, queryHeadsOf, removeFusedHeads } from './fused_heads.js';
import { analyzeHeads, headScores, removeHeads } from './heads.js';
import { sliceAxis } from './slice.js';

export { sliceAxis };

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

/** The bias of a Conv / Gemm producer (input 2, one value per output channel), if it has one. */
async function biasOf(model: Model, p: ChannelAnalysis['producers'][number], rows: number): Promise<Float32Array | Float64Array | undefined> {
  if (p.opType !== 'Conv' && p.opType !== 'Gemm') return undefined;
  const node = model.graph.nodes.find((n) => n.name === p.node);
  const b = node?.inputs[2] ? model.graph.initializers.get(node.inputs[2]) : undefined;
  if (!b || b.size !== rows) return undefined;
  return floatValues(b);
}

/** Per channel score of a producer (L1/L2 norm of its filter and bias, or |BatchNorm scale|). */
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
      // the bias is the filter's weight on a constant input: a channel of small weights but a large
      // bias (a folded BatchNorm's shift) outputs a constant its readers depend on
      const bias = await biasOf(model, p, rows);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) {
          const x = p.outAxis === 0 ? v[r * cols + c]! : v[c * rows + r]!;
          s += criterion === 'l2' ? x * x : Math.abs(x);
        }
        const b = bias?.[r] ?? 0;
        scores[r] = criterion === 'l2' ? Math.sqrt(s + b * b) : s + Math.abs(b);
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
  /** Channels that had to stay (graph outputs, ops the analysis does not follow, …). */
  fixed: number;
  /** Why channels of this group stay, when some do or nothing was removed. */
  reasons?: string[];
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
  const rootReasons = new Map<number, Set<string>>();
  for (const b of a.barriers) {
    for (const id of a.spaces.get(b.value)?.ids ?? []) {
      const r = find(parent, id);
      const set = rootReasons.get(r) ?? new Set<string>();
      set.add(b.reason);
      rootReasons.set(r, set);
    }
  }
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
    const reasons = new Set<string>();
    for (const r of roots) for (const why of rootReasons.get(r) ?? []) reasons.add(why);
    if (!allowed) reasons.add('excluded by the include/exclude options');
    else if (n === 0 && candidates.length > 0) reasons.add(`sparsity ${wanted} of ${roots.length} channels rounds to 0`);
    const fixedCount = roots.length - candidates.length;
    report.push({
      producers: members.map((i) => a.producers[i]!.node),
      channels: roots.length,
      removed: n,
      prunable: candidates.length > 0 && allowed,
      fixed: fixedCount,
      ...(reasons.size && (n === 0 || fixedCount > 0) ? { reasons: [...reasons].slice(0, 5) } : {}),
    });
  }
  return { removed, clusters: report };
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
  const tensors = new Map<string, { values: Float32Array; shape: number[]; dtype: string }>();
  for (const act of a.actions) {
    const s = a.spaces.get(act.value)!;
    const keep = keptOf(act.value, true);
    if (keep.length === s.ids.length * s.block) continue;
    let cur = tensors.get(act.init);
    if (!cur) {
      const t = g.initializers.get(act.init);
      if (!t) throw new ArgumentError(`structured pruning: initializer '${act.init}' not found`);
      cur = { values: await floatValues(t), shape: [...t.shape], dtype: t.dtype };
    }
    if (cur.shape[act.axis] !== s.ids.length * s.block) throw new ArgumentError(`structured pruning: '${act.init}' axis ${act.axis} has ${cur.shape[act.axis]} entries, expected ${s.ids.length * s.block}`);
    tensors.set(act.init, { ...sliceAxis(cur.values, cur.shape, act.axis, keep), dtype: cur.dtype });
  }
  for (const [name, t] of tensors) g.initializers.set(name, cpuTensor(t.values, t.shape, t.dtype));
  for (const u of a.groupUpdates) {
    const node = g.nodes.find((n) => n.name === u.node.name && n.opType === u.node.opType)!;
    const attr: AttributeValue = { type: 'int', value: keptOf(u.value, false).length };
    node.attributes.set('group', attr);
  }
  for (const [value, s] of a.spaces) if (s.ids.some((id) => removed.has(find(a.parent, id)))) g.valueInfo.delete(value);
  for (const [alias, init] of a.aliases) if (tensors.has(init)) g.valueInfo.delete(alias);
  eliminateDeadCode(g);
  return out;
}

const structuredOptions = defineOptions({
  sparsity: { type: 'number', min: 0, max: 1, default: 0.5, description: 'fraction of channels (Conv filters, Gemm/MatMul output neurons) and attention heads removed in each group of coupled layers' },
  criterion: { type: 'string', enum: ['l1', 'l2', 'bn-scale'] as const, default: 'l1', description: "channel importance: L1 or L2 norm of the filter and its bias, or |scale| of the BatchNormalization after it (L1 where none follows; the front end folds BatchNorms into convolutions, so use it with --no-front-end)" },
  layerSparsity: { type: 'object', description: 'per-layer overrides {producerNodeName, attention Softmax node name or com.microsoft MultiHeadAttention / GroupQueryAttention node name: fraction}' },
  include: { type: 'string[]', description: 'only prune the output channels of these nodes' },
  exclude: { type: 'string[]', default: [], description: 'never prune the output channels of these nodes (or the heads of these Softmax, MultiHeadAttention or GroupQueryAttention nodes)' },
  channelMultiple: { type: 'number', integer: true, min: 1, default: 1, description: 'round kept channel counts up to a multiple of this (hardware friendly sizes)' },
  compensateBias: { type: 'boolean', default: true, description: "fold what a removed Conv/Gemm channel still gave its readers (its bias through the activations after it, a constant map) into the readers' biases" },
  heads: { type: 'boolean', default: true, description: 'remove whole attention heads (Q/K/V columns, output-projection rows, Reshape head counts or the num_heads of com.microsoft MultiHeadAttention; whole KV groups of GroupQueryAttention), lowest L2 norm first' },
});

/** The most frequent reasons (with counts; node names dropped so that per-layer reasons group). */
function topReasons(reasons: readonly (string | undefined)[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    if (!r) continue;
    const key = r.replace(/'[^']*'/g, '…');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((x, y) => y[1] - x[1]).slice(0, 4).map(([r, n]) => `${n}× ${r}`).join('; ') || 'sparsity too small';
}

/** What happened to one attention block. */
export interface HeadReport {
  /** The block's label: its Softmax node, or the fused MultiHeadAttention / GroupQueryAttention node. */
  softmax: string;
  /** The fused op, for a com.microsoft MultiHeadAttention / GroupQueryAttention block. */
  op?: string;
  heads: number;
  /** Key/value heads of a GroupQueryAttention block (heads are removed in whole groups of one KV head). */
  kvHeads?: number;
  /** Removed query heads. */
  removed: number[];
  /** Removed KV heads (groups) of a GroupQueryAttention block. */
  removedKv?: number[];
  /** Per head, or per KV group for GroupQueryAttention. */
  scores: number[];
  reason?: string;
}

/** Select and remove attention heads in place on `g`'s model `m` (a clone). */
async function pruneAttentionHeads(m: Model, o: { sparsity: number; layerSparsity?: Record<string, number> | undefined; exclude?: readonly string[] | undefined }): Promise<HeadReport[]> {
  const h = analyzeHeads(m);
  const out: HeadReport[] = h.skipped.map((s) => ({ softmax: s.softmax, heads: 0, removed: [], scores: [], reason: s.reason }));
  for (const b of h.blocks) {
    const scores = await headScores(m, b);
    const sp = o.layerSparsity?.[b.softmax] ?? o.sparsity;
    const n = o.exclude?.includes(b.softmax) ? 0 : Math.min(b.heads - 1, Math.floor(sp * b.heads));
    const order = Array.from({ length: b.heads }, (_, i) => i).sort((x, y) => scores[x]! - scores[y]! || x - y);
    const removed = order.slice(0, n).sort((x, y) => x - y);
    if (removed.length) await removeHeads(m.graph, b, new Set(removed));
    out.push({
      softmax: b.softmax,
      heads: b.heads,
      removed,
      scores: [...scores].map((x) => Math.round(x * 1e4) / 1e4),
      ...(removed.length ? {} : { reason: o.exclude?.includes(b.softmax) ? 'excluded' : `sparsity ${sp} of ${b.heads} heads rounds to 0` }),
    });
  }
  const f = analyzeFusedHeads(m);
  out.push(...f.skipped.map((s) => ({ softmax: s.node, op: s.op, heads: 0, removed: [], scores: [], reason: s.reason })));
  for (const b of f.blocks) {
    const scores = await fusedGroupScores(m, b);
    const gqa = b.op === 'GroupQueryAttention';
    const sp = o.layerSparsity?.[b.node] ?? o.sparsity;
    const n = o.exclude?.includes(b.node) ? 0 : Math.min(b.kvHeads - 1, Math.floor(sp * b.kvHeads));
    const order = Array.from({ length: b.kvHeads }, (_, i) => i).sort((x, y) => scores[x]! - scores[y]! || x - y);
    const groups = order.slice(0, n).sort((x, y) => x - y);
    if (groups.length) await removeFusedHeads(m.graph, b, new Set(groups));
    const unit = gqa ? `KV groups (${b.heads / b.kvHeads} query heads each)` : 'heads';
    out.push({
      softmax: b.node,
      op: b.op,
      heads: b.heads,
      ...(gqa ? { kvHeads: b.kvHeads, removedKv: groups } : {}),
      removed: queryHeadsOf(b, groups),
      scores: [...scores].map((x) => Math.round(x * 1e4) / 1e4),
      ...(groups.length ? {} : { reason: o.exclude?.includes(b.node) ? 'excluded' : `sparsity ${sp} of ${b.kvHeads} ${unit} rounds to 0` }),
    });
  }
  return out;
}

/**
 * `prune-structured`: remove whole Conv filters, Gemm/MatMul output neurons and attention heads
 * with real graph surgery, so the written model has smaller tensors and fewer FLOPs. Channels tied
 * by residual Add/Mul/Sub, Concat, BatchNorm, pooling, Flatten and depthwise convs are removed
 * together; channels reaching a graph output (or an op the analysis does not follow) are kept and
 * the report says why, per group. Attention heads are removed as units (Q/K/V columns, output
 * projection rows, Reshape head counts); onnxruntime's com.microsoft MultiHeadAttention and
 * GroupQueryAttention lose heads through their num_heads (whole KV groups for GroupQueryAttention,
 * whose KV cache inputs and outputs get the new head count); the residual-stream width is never
 * pruned.
 */
export const pruneStructured = definePass({
  specificationVersion: 'v1',
  name: 'prune-structured',
  cli: { group: 'prune', command: 'structured' },
  description: 'Remove Conv filters, Gemm/MatMul neurons and attention heads with graph surgery across residual adds, concats, BN, depthwise convs and Flatten.',
  optionsSchema: structuredOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const before = await sparsityReport(model, { gzip: false });
    const work = cloneModel(model);
    const heads = o.heads ? await pruneAttentionHeads(work, { sparsity: o.sparsity, layerSparsity: o.layerSparsity as Record<string, number> | undefined, exclude: o.exclude }) : [];
    const headsRemoved = heads.reduce((s, h) => s + h.removed.length, 0);
    throwIfAborted(ctx.signal, 'prune-structured');
    const a = analyzeChannels(work);
    ctx.onProgress(0.3, 'analyzed channel groups');
    const { removed, clusters } = await selectChannels(work, a, {
      sparsity: o.sparsity,
      criterion: o.criterion,
      layerSparsity: o.layerSparsity as Record<string, number> | undefined,
      include: o.include,
      exclude: o.exclude,
      channelMultiple: o.channelMultiple,
    });
    throwIfAborted(ctx.signal, 'prune-structured');
    // the constant a removed channel gave its readers goes into their biases
    const compensated = o.compensateBias ? await compensateRemovedChannels(work, a, removed) : 0;
    const out = await removeChannels(work, a, removed);
    const after = await sparsityReport(out, { gzip: false });
    const layers = a.producers.map((p) => ({
      node: p.node,
      channelsBefore: work.graph.initializers.get(p.weight)!.shape[p.outAxis]!,
      // a layer whose output no longer reaches the graph outputs is removed as dead code
      channelsAfter: out.graph.initializers.get(p.weight)?.shape[p.outAxis] ?? 0,
      removed: a.spaces.get(p.value)!.ids.flatMap((id, k) => (removed.has(find(a.parent, id)) ? [k] : [])),
    }));
    const removedCount = layers.reduce((s, l) => s + l.channelsBefore - l.channelsAfter, 0);
    const groupsPruned = clusters.filter((c) => c.removed > 0).length;
    const changed = removed.size > 0 || headsRemoved > 0;
    // the front end folds BatchNorms into the convolutions: their scales are then in the filters
    const bnMissing = o.criterion === 'bn-scale' && a.producers.length > 0 && !a.producers.some((p) => p.bnScale);
    const warnings = bnMissing ? ['bn-scale: no BatchNormalization reads a pruned layer\'s output (the front end folds them into the convolutions, whose filters then carry the scale): channels were scored by the L1 norm of the filters and biases, as with --criterion l1'] : [];
    const reason = changed ? undefined : a.producers.length === 0 && heads.length === 0
      ? noWeightsReason(model)
      : `nothing prunable in ${clusters.length} channel group(s)${heads.length ? ` and ${heads.length} attention block(s)` : ''}: ${topReasons([...clusters.map((c) => c.reasons?.[0]), ...heads.map((h) => h.reason)])}`;
    ctx.onProgress(1, 'done');
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed
          ? `prune-structured: removed ${removedCount} channels in ${groupsPruned}/${clusters.length} groups and ${headsRemoved} attention heads (${bnMissing ? 'l1: no BatchNormalization left for bn-scale' : o.criterion}); parameters ${before.parameters} → ${after.parameters}, weights ${before.weightBytes} → ${after.weightBytes} bytes, FLOPs ${before.flopsDense} → ${after.flopsDense} (${flopCut(before.flopsDense, after.flopsDense)}, estimated from the shapes; the smaller dense layers run that much less work in onnxruntime)${groupsPruned < clusters.length ? `; ${clusters.length - groupsPruned} group(s) kept whole: ${topReasons(clusters.filter((c) => c.removed === 0).map((c) => c.reasons?.[0]))}` : ''}`
          : `prune-structured: nothing removed: ${reason}`,
        stats: {
          channelsRemoved: removedCount,
          biasesCompensated: compensated,
          groups: clusters.length,
          groupsPruned,
          groupsKept: clusters.length - groupsPruned,
          attentionBlocks: heads.filter((h) => h.heads > 0).length,
          headsRemoved,
          parametersBefore: before.parameters,
          parametersAfter: after.parameters,
          flopsBefore: before.flopsDense,
          flopsAfter: after.flopsDense,
          flopsReduction: before.flopsDense > 0 ? 1 - after.flopsDense / before.flopsDense : 0,
          weightBytesBefore: before.weightBytes,
          weightBytesAfter: after.weightBytes,
        },
        ...(warnings.length ? { warnings } : {}),
        details: { ...(reason ? { reason } : {}), layers, clusters, heads, fixed: [...new Set(a.barriers.map((b) => b.reason))] },
      },
    };
  },
});

/** `−42.0 % FLOPs` (or `+…` if it grew). */
function flopCut(before: number, after: number): string {
  if (before <= 0) return 'FLOPs not estimated';
  const d = (after / before - 1) * 100;
  return `${d <= 0 ? '−' : '+'}${Math.abs(d).toFixed(1)} % FLOPs`;
}

/**
 * Why no layer was found, as far as the model shows it: float weights only inside If/Loop/Scan
 * bodies (channel counts are changed in the main graph only), float weights held in Constant nodes
 * (which normalize turns into initializers), or integer weights (already quantized: normalize does
 * not change that).
 */
function noWeightsReason(model: Model): string {
  const none = 'no Conv/Gemm/MatMul with a float32 or float16 initializer weight';
  const inSubgraphs = findPrunableWeights(model, { subgraphs: true }).filter((w) => w.scope).length;
  if (inSubgraphs) return `no Conv/Gemm/MatMul with an initializer weight in the main graph: ${inSubgraphs} weight(s) are inside If/Loop/Scan subgraphs, where channels are not removed; prune-unstructured, prune-nm or the quantize passes reach them`;
  const inConstants = constantFedLayers(model);
  if (inConstants) return `${none}: ${inConstants} layer(s) read their float32 weight from a Constant node; run normalize first (the front end) to make them initializers`;
  const integer = integerLayersNote(model);
  return integer ? `${none}: ${integer}` : none;
}

/** Main-graph Conv/Gemm/MatMul nodes whose weight input is a float32 Constant node's output. */
function constantFedLayers(model: Model): number {
  const g = model.graph;
  const constants = new Set(g.nodes.filter((c) => {
    const v = c.opType === 'Constant' ? c.attributes.get('value') : undefined;
    return v?.type === 'tensor' && 'dtype' in v.value && v.value.dtype === 'float32';
  }).map((c) => c.outputs[0]));
  let n = 0;
  for (const x of g.nodes) if (['Conv', 'Gemm', 'MatMul'].includes(x.opType) && isDefaultDomain(x.domain) && constants.has(x.inputs[1])) n++;
  return n;
}
