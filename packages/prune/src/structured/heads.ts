import { type Graph, type Model, type Node, type ValueType, NameGenerator, type UseIndex, buildUseIndex, inferValueTypes, opsetVersion } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor, floatValues, initializerUseCounts } from '../layers.js';
import { sliceAxis } from './slice.js';

/** A Q/K/V projection: `MatMul(x, W[K, N])` (+ `Add` of a bias [N]); heads are column blocks. */
export interface HeadProjection {
  node: string;
  weight: string;
  bias?: string;
}

/** Where a Reshape's shape holds the head count: an int64 initializer element rewritten on pruning. */
export interface ShapeEdit {
  /** The node whose input `input` reads the shape initializer. */
  node: string;
  input: number;
  init: string;
  /** Element of the initializer holding the count. */
  index: number;
  /** New value = kept heads × `perHead` (1 for the head count, Dh for the merged width). */
  perHead: number;
}

/** One multi-head attention whose heads can be removed together with their slices. */
export interface AttentionBlock {
  /** Name of the Softmax node (the block's label). */
  softmax: string;
  heads: number;
  headDim: number;
  q: HeadProjection;
  k: HeadProjection;
  v: HeadProjection;
  /** Output projection MatMul; its weight rows are grouped by head. */
  out: HeadProjection;
  edits: ShapeEdit[];
  /** Values whose shape changes (their value_info is dropped). */
  values: string[];
}

/** What {@link analyzeHeads} finds. */
export interface HeadAnalysis {
  blocks: AttentionBlock[];
  /** Softmax nodes that look like attention but cannot be pruned by head, with the reason. */
  skipped: { softmax: string; reason: string }[];
}

class NotPrunable extends Error {}

const SCALE_OPS = new Set(['Div', 'Mul', 'Add', 'Sub', 'Cast']);

function single<T>(xs: readonly T[] | undefined, what: string): T {
  if (!xs || xs.length !== 1) throw new NotPrunable(`${what} has ${xs?.length ?? 0} consumers, expected 1`);
  return xs[0]!;
}

function intValues(g: Graph, name: string): number[] | undefined {
  const t = g.initializers.get(name);
  if (!t || (t.dtype !== 'int64' && t.dtype !== 'int32')) return undefined;
  return Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
}

/**
 * Find multi-head attention blocks as exporters write them: Q/K/V projections (MatMul with a
 * [K, N] weight initializer, optional bias Add) → Reshape to [B, S, H, Dh] → Transpose → scores
 * MatMul → scaling/mask → Softmax → MatMul with V → Transpose → Reshape to [B, S, H·Dh] → output
 * projection MatMul. The Reshape shapes may be int64 initializers or built with Concat from
 * runtime dims and constants (after normalization the constants are initializers).
 */
export function analyzeHeads(model: Model): HeadAnalysis {
  const g = model.graph;
  const idx = buildUseIndex(g);
  const { types } = inferValueTypes(g, { opset: opsetVersion(model) ?? 21 });
  const uses = initializerUseCounts(model);
  const blocks: AttentionBlock[] = [];
  const skipped: { softmax: string; reason: string }[] = [];
  for (const sm of g.nodes.filter((n) => n.opType === 'Softmax' && (n.domain === '' || n.domain === 'ai.onnx'))) {
    try {
      blocks.push(traceBlock(g, idx, types, uses, sm));
    } catch (e) {
      if (!(e instanceof NotPrunable)) throw e;
      skipped.push({ softmax: sm.name, reason: e.message });
    }
  }
  // two blocks must not share a weight or a shape edit
  const seen = new Set<string>();
  const ok = blocks.filter((b) => {
    const keys = [b.q.weight, b.k.weight, b.v.weight, b.out.weight, ...b.edits.map((e) => `${e.node}#${e.input}`)];
    if (keys.some((k) => seen.has(k))) {
      skipped.push({ softmax: b.softmax, reason: 'shares weights or shape tensors with another attention block' });
      return false;
    }
    for (const k of keys) seen.add(k);
    return true;
  });
  return { blocks: ok, skipped };
}

function traceBlock(g: Graph, idx: UseIndex, types: Map<string, ValueType>, uses: Map<string, number>, sm: Node): AttentionBlock {
  const producer = (v: string): Node | undefined => idx.producers.get(v)?.node;
  const values: string[] = [sm.outputs[0]!];
  // back from the Softmax to the scores MatMul, through scaling and masking
  let scores: Node | undefined;
  let cur = sm.inputs[0]!;
  for (let depth = 0; depth < 6 && !scores; depth++) {
    const p = producer(cur);
    if (!p) break;
    values.push(cur);
    if (p.opType === 'MatMul') scores = p;
    else if (SCALE_OPS.has(p.opType)) {
      const next = p.inputs.find((i) => i && producer(i) && !g.initializers.has(i) && (types.get(i)?.shape?.length ?? 4) === 4);
      if (!next) break;
      cur = next;
    } else break;
  }
  if (!scores) throw new NotPrunable('no scores MatMul before the Softmax');
  const ctxUse = single(idx.consumers.get(sm.outputs[0]!), `Softmax '${sm.name}' output`);
  if (ctxUse.node.opType !== 'MatMul' || ctxUse.input !== 0) throw new NotPrunable('Softmax output does not feed MatMul(probs, V)');
  const ctxMM = ctxUse.node;
  // back from a head tensor to its Reshape [B, S, D] → [B, S, H, Dh]
  const toReshape = (v: string): Node => {
    let c = v;
    for (let d = 0; d < 4; d++) {
      const p = producer(c);
      if (!p) break;
      values.push(c);
      single(idx.consumers.get(c), `'${c}'`);
      if (p.opType === 'Reshape') return p;
      if (p.opType === 'Transpose' || ((p.opType === 'Mul' || p.opType === 'Div') && p.inputs[1] && g.initializers.get(p.inputs[1])?.size === 1)) c = p.inputs[0]!;
      else break;
    }
    throw new NotPrunable(`no head Reshape before '${v}'`);
  };
  const rq = toReshape(scores.inputs[0]!);
  const rk = toReshape(scores.inputs[1]!);
  const rv = toReshape(ctxMM.inputs[1]!);
  const shape4 = types.get(rq.outputs[0]!)?.shape;
  const shape3 = types.get(rq.inputs[0]!)?.shape;
  if (shape4?.length !== 4 || shape3?.length !== 3) throw new NotPrunable('head Reshape is not [B, S, D] → [B, S, H, Dh]');
  const H = shape4[2];
  const Dh = shape4[3];
  const D = shape3[2];
  if (typeof H !== 'number' || typeof Dh !== 'number' || typeof D !== 'number' || H * Dh !== D) throw new NotPrunable(`head Reshape shape [${shape4.join(', ')}] has no static heads × head size = ${String(D)}`);
  if (H < 2) throw new NotPrunable('a single head');
  for (const r of [rk, rv]) {
    const s = types.get(r.outputs[0]!)?.shape;
    if (s?.[2] !== H || s[3] !== Dh) throw new NotPrunable(`Reshape '${r.name}' does not split into ${H} heads of ${Dh}`);
  }
  // forward from the context MatMul: Transpose → Reshape [B, S, D] → output projection
  let c = ctxMM.outputs[0]!;
  let ro: Node | undefined;
  for (let d = 0; d < 3 && !ro; d++) {
    values.push(c);
    const u = single(idx.consumers.get(c), `'${c}'`).node;
    if (u.opType === 'Reshape') ro = u;
    else if (u.opType === 'Transpose') c = u.outputs[0]!;
    else break;
  }
  if (!ro) throw new NotPrunable('context is not reshaped back to [B, S, D]');
  const merged = ro.outputs[0]!;
  values.push(merged);
  if (types.get(merged)?.shape?.length !== 3 || types.get(merged)?.shape?.[2] !== D) throw new NotPrunable(`Reshape '${ro.name}' does not merge heads into ${D}`);
  const outUse = single(idx.consumers.get(merged), `Reshape '${ro.name}' output`);
  const own = (n: string | undefined): boolean => !!n && g.initializers.has(n) && uses.get(n) === 1;
  const outW = outUse.node.inputs[1];
  const outWt = outW ? g.initializers.get(outW) : undefined;
  if (outUse.node.opType !== 'MatMul' || outUse.input !== 0 || !own(outW) || outWt?.rank !== 2 || outWt.shape[0] !== D) throw new NotPrunable('output projection is not MatMul with its own [D, N] weight');
  const proj = (r: Node): HeadProjection => {
    const v = r.inputs[0]!;
    values.push(v);
    single(idx.consumers.get(v), `projection '${v}'`);
    let p = producer(v);
    let bias: string | undefined;
    if (p?.opType === 'Add') {
      const bi = p.inputs.findIndex((i) => own(i));
      const mm = p.inputs[1 - bi];
      const bt = bi >= 0 ? g.initializers.get(p.inputs[bi]!) : undefined;
      if (!bt || bt.size !== D || bt.shape[bt.rank - 1] !== D || !mm) throw new NotPrunable(`projection bias of '${r.name}' is not its own [${D}] initializer`);
      bias = p.inputs[bi]!;
      values.push(mm);
      single(idx.consumers.get(mm), `projection MatMul output '${mm}'`);
      p = producer(mm);
    }
    const w = p?.inputs[1];
    const wt = w ? g.initializers.get(w) : undefined;
    if (p?.opType !== 'MatMul' || !own(w) || wt?.rank !== 2 || wt.shape[1] !== D) throw new NotPrunable(`projection before '${r.name}' is not MatMul with its own [K, ${D}] weight`);
    return { node: p.name, weight: w!, ...(bias ? { bias } : {}) };
  };
  const q = proj(rq);
  const k = proj(rk);
  const v = proj(rv);
  const edits: ShapeEdit[] = [];
  const shapeEdit = (r: Node, axis: number, expect: number, perHead: number, group: Node[]): void => {
    const sh = r.inputs[1]!;
    const direct = intValues(g, sh);
    if (direct) {
      if (direct[axis] === -1 || direct[axis] === 0) return;
      if (direct[axis] !== expect) throw new NotPrunable(`Reshape '${r.name}' shape element ${axis} is ${direct[axis]}, expected ${expect}`);
      edits.push({ node: r.name, input: 1, init: sh, index: axis, perHead });
      return;
    }
    const cat = producer(sh);
    if (cat?.opType !== 'Concat') throw new NotPrunable(`shape of Reshape '${r.name}' is neither an initializer nor a Concat`);
    const users = (idx.consumers.get(sh) ?? []).map((u) => u.node);
    if (users.some((u) => !group.includes(u))) throw new NotPrunable(`shape Concat '${cat.name}' is shared outside the attention block`);
    if (edits.some((e) => e.node === cat.name)) return; // shared by Q/K/V: edited once
    let offset = 0;
    for (let j = 0; j < cat.inputs.length; j++) {
      const part = cat.inputs[j]!;
      const len = g.initializers.get(part)?.size ?? (types.get(part)?.shape?.[0] as number | undefined);
      if (typeof len !== 'number') throw new NotPrunable(`shape Concat '${cat.name}' input '${part}' has unknown length`);
      if (offset <= axis && axis < offset + len) {
        const vals = intValues(g, part);
        if (!vals) throw new NotPrunable(`shape element ${axis} of Reshape '${r.name}' is computed at run time`);
        const at = axis - offset;
        if (vals[at] === -1) return;
        if (vals[at] !== expect) throw new NotPrunable(`Reshape '${r.name}' shape element ${axis} is ${vals[at]}, expected ${expect}`);
        edits.push({ node: cat.name, input: j, init: part, index: at, perHead });
        return;
      }
      offset += len;
    }
    throw new NotPrunable(`shape Concat '${cat.name}' is too short`);
  };
  for (const r of [rq, rk, rv]) shapeEdit(r, 2, H, 1, [rq, rk, rv]);
  shapeEdit(ro, 2, D, Dh, [ro]);
  for (const r of [rq, rk, rv]) values.push(r.outputs[0]!);
  return { softmax: sm.name, heads: H, headDim: Dh, q, k, v, out: { node: outUse.node.name, weight: outW! }, edits, values: [...new Set(values)] };
}

/** Per-head importance: sum over Q, K, V columns and output rows of the head's L2 norm, each normalized by its mean over heads. */
export async function headScores(model: Model, b: AttentionBlock): Promise<Float64Array> {
  const out = new Float64Array(b.heads);
  const g = model.graph;
  for (const [w, axis] of [[b.q.weight, 1], [b.k.weight, 1], [b.v.weight, 1], [b.out.weight, 0]] as const) {
    const t = g.initializers.get(w)!;
    const v = await floatValues(t);
    const [rows, cols] = [t.shape[0]!, t.shape[1]!];
    const norms = new Float64Array(b.heads);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const h = Math.floor((axis === 1 ? c : r) / b.headDim);
        norms[h]! += v[r * cols + c]! ** 2;
      }
    }
    let mean = 0;
    for (let h = 0; h < b.heads; h++) mean += Math.sqrt(norms[h]!) / b.heads;
    for (let h = 0; h < b.heads; h++) out[h]! += mean > 0 ? Math.sqrt(norms[h]!) / mean : 0;
  }
  return out;
}

/**
 * Remove heads `removed` of block `b` in place in `g` (a clone): slice Q/K/V weight columns and
 * biases, output-projection rows, and rewrite the head count / merged width in the Reshape shapes
 * (a fresh initializer per edited input, so shared shape constants elsewhere stay intact).
 */
export async function removeHeads(g: Graph, b: AttentionBlock, removed: ReadonlySet<number>): Promise<void> {
  const keptHeads = Array.from({ length: b.heads }, (_, h) => h).filter((h) => !removed.has(h));
  const keep = keptHeads.flatMap((h) => Array.from({ length: b.headDim }, (_, j) => h * b.headDim + j));
  const slice = async (name: string, axis: number): Promise<void> => {
    const t = g.initializers.get(name)!;
    const s = sliceAxis(await floatValues(t), t.shape, axis, keep);
    g.initializers.set(name, cpuTensor(s.values, s.shape, t.dtype));
  };
  for (const p of [b.q, b.k, b.v]) {
    await slice(p.weight, 1);
    if (p.bias) await slice(p.bias, g.initializers.get(p.bias)!.rank - 1);
  }
  await slice(b.out.weight, 0);
  const names = new NameGenerator(g);
  for (const e of b.edits) {
    const node = g.nodes.find((n) => n.name === e.node)!;
    const t = g.initializers.get(e.init)!;
    const vals = Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
    vals[e.index] = keptHeads.length * e.perHead;
    const fresh = names.value(`${e.init}_pruned`);
    const data = t.dtype === 'int64' ? BigInt64Array.from(vals, (x) => BigInt(x)) : Int32Array.from(vals);
    g.initializers.set(fresh, tensor(data, [...t.shape], t.dtype, { backend: 'cpu' }));
    node.inputs[e.input] = fresh;
  }
  for (const v of b.values) g.valueInfo.delete(v);
}
