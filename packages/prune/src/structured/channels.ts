import { type Dim, type Model, type Node, buildUseIndex, getInt, inferValueTypes, opsetVersion, topologicalOrder } from '@whittle/graph';
import { initializerUseCounts } from '../layers.js';

/**
 * The channel dimension of an activation: one channel id per channel along `axis`; each channel
 * covers `block` consecutive elements there (after Flatten, channel c of a [N, C, H, W] tensor is
 * the block of H·W features starting at c·H·W).
 */
export interface Space {
  ids: number[];
  axis: number;
  rank: number;
  block: number;
}

/** Slice initializer `init` along `axis`, keeping the positions of `value`'s space that survive. */
export interface SliceAction {
  init: string;
  axis: number;
  value: string;
}

/** A Conv/Gemm/MatMul whose output channels can be removed. */
export interface Producer {
  node: string;
  opType: string;
  /** Output value; its space's ids are this producer's channels. */
  value: string;
  weight: string;
  /** Weight axis of the output channels. */
  outAxis: number;
  /** BatchNormalization scale read directly after the producer, if any. */
  bnScale?: string;
}

/** What {@link analyzeChannels} finds. */
export interface ChannelAnalysis {
  spaces: Map<string, Space>;
  actions: SliceAction[];
  /** Depthwise convs whose `group` becomes the kept channel count of `value`. */
  groupUpdates: { node: Node; value: string }[];
  producers: Producer[];
  /** Union-find parent of each channel id. */
  parent: number[];
  /** Ids that must stay (graph outputs, unsupported consumers, …). */
  fixed: Set<number>;
  /** Why channels were fixed (value → reason), for reports. */
  barriers: { value: string; reason: string }[];
  /**
   * Identity outputs that stand for an initializer (torch >= 1.13 routes renamed or deduplicated
   * weights through Identity): output name → initializer name. Slicing the initializer slices it.
   */
  aliases: Map<string, string>;
}

const PASS_THROUGH = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'Identity', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'HardSwish', 'Gelu', 'Softplus', 'Softsign', 'Neg', 'Abs', 'Erf', 'Mish', 'ThresholdedRelu', 'Dropout', 'Cast', 'Sqrt', 'Exp', 'Log', 'Reciprocal']);
const POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool']);
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'PRelu']);

/** Root of `i` in the union-find `parent` (with path halving). */
export function find(parent: number[], i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]!]!;
    i = parent[i]!;
  }
  return i;
}

/**
 * Trace channel dimensions through the graph: which channels of which tensors must be removed
 * together (ids unioned through Add/Mul/Sub/…, shared through Concat, BatchNorm, pooling,
 * activations, Flatten, depthwise convs) and which initializer slices follow from removing a
 * channel. Channels reaching a graph output or an op this analysis does not understand are fixed.
 */
export function analyzeChannels(model: Model): ChannelAnalysis {
  const g = model.graph;
  const { types } = inferValueTypes(g, { opset: opsetVersion(model) ?? 21 });
  const shapeOf = (v: string | undefined): readonly Dim[] | undefined => (v ? types.get(v)?.shape : undefined);
  const uses = initializerUseCounts(model);
  const useIdx = buildUseIndex(g);
  const aliases = new Map<string, string>();
  for (const n of g.nodes) {
    const src = n.inputs[0];
    const out = n.outputs[0];
    if (n.opType !== 'Identity' || !src || !out || !g.initializers.has(src) || uses.get(src) !== 1) continue;
    if ((useIdx.consumers.get(out) ?? []).length === 1 && !useIdx.graphOutputs.has(out)) aliases.set(out, src);
  }
  const resolve = (v: string): string => aliases.get(v) ?? v;
  const ownInit = (name: string | undefined): boolean => !!name && g.initializers.has(name) && uses.get(name) === 1;
  const parent: number[] = [];
  const fixed = new Set<number>();
  const spaces = new Map<string, Space>();
  const actions: SliceAction[] = [];
  const groupUpdates: { node: Node; value: string }[] = [];
  const producers: Producer[] = [];
  const barriers: { value: string; reason: string }[] = [];
  const fresh = (n: number): number[] => Array.from({ length: n }, () => {
    parent.push(parent.length);
    return parent.length - 1;
  });
  const barrier = (value: string, reason: string): void => {
    const s = spaces.get(value);
    if (!s) return;
    for (const id of s.ids) fixed.add(id);
    barriers.push({ value, reason });
  };
  const union = (a: number, b: number): void => {
    const ra = find(parent, a);
    const rb = find(parent, b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const bnAfter = new Map<string, string>();
  for (const n of g.nodes) if (n.opType === 'BatchNormalization' && n.inputs[1] && g.initializers.has(resolve(n.inputs[1]))) bnAfter.set(n.inputs[0]!, resolve(n.inputs[1]));

  for (const orig of topologicalOrder(g)) {
    // weights reached through an Identity alias are read as the initializer itself
    const n: Node = orig.inputs.some((i) => aliases.has(i)) ? { ...orig, inputs: orig.inputs.map(resolve) } : orig;
    if (n.opType === 'Identity' && aliases.has(n.outputs[0] ?? '')) continue;
    const isDefault = n.domain === '' || n.domain === 'ai.onnx';
    const tracked = n.inputs.filter((i) => i && spaces.has(i));
    const out = n.outputs[0] ?? '';
    const barrierAll = (reason: string): void => {
      for (const t of tracked) barrier(t, `${n.opType} '${n.name}': ${reason}`);
    };
    if (!isDefault) {
      barrierAll('custom-domain op');
      continue;
    }
    const x = n.inputs[0] ?? '';
    const xs = spaces.get(x);
    switch (n.opType) {
      case 'Conv': {
        const w = g.initializers.get(n.inputs[1] ?? '');
        const group = getInt(n, 'group', 1);
        const bias = n.inputs[2];
        const biasOk = !bias || ownInit(bias);
        if (xs) {
          if (xs.axis !== 1 || xs.block !== 1) barrier(x, `Conv '${n.name}': channel axis is not 1`);
          else if (group === 1 && w && ownInit(n.inputs[1])) actions.push({ init: n.inputs[1]!, axis: 1, value: x });
          else if (w && group === xs.ids.length && w.shape[1] === 1 && w.shape[0] === group && ownInit(n.inputs[1]) && biasOk) {
            // depthwise: output channel c is input channel c; pruning one removes its filter too
            spaces.set(out, { ids: xs.ids, axis: 1, rank: xs.rank, block: 1 });
            actions.push({ init: n.inputs[1]!, axis: 0, value: out });
            if (bias) actions.push({ init: bias, axis: 0, value: out });
            groupUpdates.push({ node: orig, value: out });
            continue;
          } else barrier(x, `Conv '${n.name}': grouped conv (group ${group}) or shared/non-constant weight`);
        }
        if (!w) continue;
        const ids = fresh(w.shape[0]!);
        spaces.set(out, { ids, axis: 1, rank: w.rank, block: 1 });
        if (group === 1 && ownInit(n.inputs[1]) && biasOk) {
          producers.push({ node: n.name, opType: 'Conv', value: out, weight: n.inputs[1]!, outAxis: 0, ...(bnAfter.has(out) ? { bnScale: bnAfter.get(out)! } : {}) });
          actions.push({ init: n.inputs[1]!, axis: 0, value: out });
          if (bias) actions.push({ init: bias, axis: 0, value: out });
        } else barrier(out, `Conv '${n.name}': grouped, shared weight or non-constant bias`);
        continue;
      }
      case 'Gemm':
      case 'MatMul': {
        const bName = n.inputs[1] ?? '';
        const b = g.initializers.get(bName);
        const gemm = n.opType === 'Gemm';
        const transA = gemm && getInt(n, 'transA', 0) === 1;
        const transB = gemm && getInt(n, 'transB', 0) === 1;
        const ok = !!b && b.rank === 2 && ownInit(bName) && !transA;
        if (xs) {
          if (ok && xs.axis === xs.rank - 1) actions.push({ init: bName, axis: transB ? 1 : 0, value: x });
          else barrier(x, `${n.opType} '${n.name}': non-constant/shared weight or transposed input`);
        }
        if (!b || b.rank !== 2) continue;
        const nOut = transB ? b.shape[0]! : b.shape[1]!;
        const rank = gemm ? 2 : (shapeOf(x)?.length ?? 2);
        const ids = fresh(nOut);
        spaces.set(out, { ids, axis: rank - 1, rank, block: 1 });
        const c = gemm ? n.inputs[2] : undefined;
        const cT = c ? g.initializers.get(c) : undefined;
        const cSize = cT ? cT.size : 0;
        const cOk = !c || (cT && ownInit(c) && (cSize === 1 || (cSize === nOut && cT.shape[cT.rank - 1] === nOut)));
        if (ok && cOk) {
          producers.push({ node: n.name, opType: n.opType, value: out, weight: bName, outAxis: transB ? 0 : 1, ...(bnAfter.has(out) ? { bnScale: bnAfter.get(out)! } : {}) });
          actions.push({ init: bName, axis: transB ? 0 : 1, value: out });
          if (c && cSize === nOut && nOut > 1) actions.push({ init: c, axis: cT!.rank - 1, value: out });
        } else barrier(out, `${n.opType} '${n.name}': weight or bias cannot be sliced`);
        continue;
      }
      case 'BatchNormalization': {
        if (!xs) continue;
        const params = n.inputs.slice(1, 5);
        if (xs.axis !== 1 || xs.block !== 1 || !params.every((p) => ownInit(p))) {
          barrier(x, `BatchNormalization '${n.name}': parameters not constant or channel axis not 1`);
          continue;
        }
        spaces.set(out, xs);
        for (const p of params) actions.push({ init: p, axis: 0, value: out });
        continue;
      }
      case 'Flatten':
      case 'Reshape': {
        if (!xs) continue;
        const inShape = shapeOf(x);
        const outShape = shapeOf(out);
        let flattenOk = false;
        if (n.opType === 'Flatten') flattenOk = getInt(n, 'axis', 1) === 1;
        else {
          const sh = g.initializers.get(n.inputs[1] ?? '');
          const vals = sh ? Array.from(sh.dataSync() as ArrayLike<number | bigint>, Number) : undefined;
          flattenOk = !!vals && vals.length === 2 && vals[1] === -1 && outShape?.length === 2;
        }
        if (n.opType === 'Reshape' && inShape && outShape && outShape.length === inShape.length + 1 && xs.axis === inShape.length - 1) {
          barrier(x, `Reshape '${n.name}': splits channels into attention heads (heads are pruned as units)`);
          continue;
        }
        if (!flattenOk || xs.axis !== 1 || !inShape || inShape.slice(2).some((d) => typeof d !== 'number')) {
          barrier(x, `${n.opType} '${n.name}': only a flatten from axis 1 with known spatial size keeps channels`);
          continue;
        }
        const spatial = (inShape.slice(2) as number[]).reduce((a, b) => a * b, 1);
        spaces.set(out, { ids: xs.ids, axis: 1, rank: 2, block: xs.block * spatial });
        continue;
      }
      case 'Concat': {
        const rank = xs?.rank ?? shapeOf(out)?.length ?? 0;
        let axis = getInt(n, 'axis', 1);
        if (axis < 0) axis += rank;
        const ins = n.inputs.map((i) => spaces.get(i));
        if (ins.every((s) => s && s.axis === axis && s.block === 1)) {
          spaces.set(out, { ids: ins.flatMap((s) => s!.ids), axis, rank, block: 1 });
        } else barrierAll(`concat of untracked tensors or along another axis`);
        continue;
      }
      default:
        break;
    }
    if (!xs && tracked.length === 0) continue;
    if (PASS_THROUGH.has(n.opType) && xs && tracked.length === 1 && (n.opType !== 'Clip' || n.inputs.slice(1).every((i) => !i || g.initializers.has(i)))) {
      spaces.set(out, xs);
      continue;
    }
    if ((n.opType === 'Resize' || n.opType === 'Upsample') && xs && xs.axis === 1 && xs.block === 1 && tracked.length === 1 && keepsChannels(n, g)) {
      spaces.set(out, xs);
      continue;
    }
    if (POOLS.has(n.opType) && xs && xs.axis === 1 && xs.block === 1) {
      spaces.set(out, xs);
      if (n.outputs[1]) barrier(x, 'MaxPool indices output');
      continue;
    }
    if (ELEMENTWISE.has(n.opType)) {
      const outRank = shapeOf(out)?.length;
      const first = spaces.get(tracked[0]!)!;
      const fromEnd = first.rank - first.axis;
      let good = outRank !== undefined;
      const consts: { name: string; axis: number }[] = [];
      for (const i of n.inputs) {
        if (!i) continue;
        const s = spaces.get(i);
        if (s) {
          if (s.rank - s.axis !== fromEnd || s.ids.length !== first.ids.length || s.block !== first.block || s.rank !== outRank) good = false;
          continue;
        }
        const c = g.initializers.get(i);
        if (!c) {
          good = false;
          continue;
        }
        const ax = c.rank - fromEnd;
        if (ax < 0 || c.shape[ax] === 1) continue;
        if (c.shape[ax] === first.ids.length && first.block === 1 && ownInit(i)) consts.push({ name: i, axis: ax });
        else good = false;
      }
      if (!good) {
        barrierAll('elementwise op with an operand whose channels cannot follow');
        continue;
      }
      for (const t of tracked) {
        const s = spaces.get(t)!;
        s.ids.forEach((id, k) => union(id, first.ids[k]!));
      }
      spaces.set(out, first);
      for (const c of consts) actions.push({ init: c.name, axis: c.axis, value: out });
      continue;
    }
    barrierAll(`${n.opType} does not keep channels`);
  }
  for (const o of g.outputs) barrier(o.name, 'graph output');
  return { spaces, actions, groupUpdates, producers, parent, fixed, barriers, aliases };
}

/**
 * A Resize / Upsample that scales only the spatial axes of an NCHW tensor (a U-Net's or FPN's
 * upsampling): constant scales with 1 for batch and channels, and no `sizes` (which would name the
 * channel count, changed by pruning). Scales come as input 1 (Upsample, Resize-10) or 2 (Resize-11+).
 */
function keepsChannels(n: Node, g: Model['graph']): boolean {
  const attr = n.attributes.get('scales');
  if (attr?.type === 'floats') return attr.value[0] === 1 && attr.value[1] === 1; // Upsample-7
  const scalesName = n.opType === 'Upsample' || n.inputs.length === 2 ? n.inputs[1] : n.inputs[2];
  if (n.inputs[3]) return false;
  const scales = scalesName ? g.initializers.get(scalesName) : undefined;
  if (!scales || scales.dtype !== 'float32' || scales.size < 2) return false;
  const v = scales.dataSync() as Float32Array;
  return v[0] === 1 && v[1] === 1;
}
