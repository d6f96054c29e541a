import { type Tensor, isFloat } from '@whittle/tensor';
import { attr, getFloat, getInt } from '../ir/attributes.js';
import { tensorValues } from '../ir/dtypes.js';
import { fromValues, broadcastIndex, broadcastNumeric } from '../fold/layout.js';
import { cloneModel, isDefaultDomain } from '../ir/graph.js';
import { NameGenerator } from '../ir/names.js';
import type { Graph, Node } from '../ir/types.js';
import { type UseIndex, buildUseIndex } from '../ir/uses.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

interface BnParams {
  /** scale / sqrt(var + eps) */
  s: Float64Array;
  /** bias - mean * s */
  t: Float64Array;
  mean: Float64Array;
  bias: Float64Array;
}

function floatInit(g: Graph, name: string | undefined): Tensor | undefined {
  const t = name ? g.initializers.get(name) : undefined;
  return t && isFloat(t.dtype) && !g.inputs.some((v) => v.name === name) ? t : undefined;
}

function bnParams(g: Graph, bn: Node): BnParams | undefined {
  const [scale, bias, mean, v] = [1, 2, 3, 4].map((i) => floatInit(g, bn.inputs[i]));
  if (!scale || !bias || !mean || !v) return undefined;
  const eps = getFloat(bn, 'epsilon', 1e-5);
  const sc = tensorValues(scale);
  const n = sc.length;
  if (bias.size !== n || mean.size !== n || v.size !== n) return undefined;
  const b = tensorValues(bias);
  const m = tensorValues(mean);
  const va = tensorValues(v);
  const s = sc.map((x, i) => x / Math.sqrt(va[i]! + eps));
  const t = b.map((x, i) => x - m[i]! * s[i]!);
  return { s, t, mean: m, bias: b };
}

/** The single consumer of `name` (not a graph output), or undefined. */
function soleConsumer(idx: UseIndex, name: string): Node | undefined {
  if (idx.graphOutputs.has(name)) return undefined;
  const uses = idx.consumers.get(name) ?? [];
  return uses.length === 1 && uses[0]!.input >= 0 ? uses[0]!.node : undefined;
}

/** Store a new weight: reuse the name when only `node` reads it, else a fresh name. */
function setWeight(g: Graph, idx: UseIndex, names: NameGenerator, node: Node, slot: number, t: Tensor): void {
  const old = node.inputs[slot] ?? '';
  const users = old ? (idx.consumers.get(old) ?? []) : [];
  const exclusive = old && users.every((u) => u.node === node) && users.length === 1;
  const name = exclusive ? old : names.value(`${old || node.name || node.opType}_bnfolded`);
  g.initializers.set(name, t);
  if (node.inputs.length <= slot) node.inputs.length = slot + 1;
  for (let i = 0; i < node.inputs.length; i++) node.inputs[i] ??= '';
  node.inputs[slot] = name;
}

function foldIntoConv(g: Graph, idx: UseIndex, names: NameGenerator, conv: Node, p: BnParams): boolean {
  const w = floatInit(g, conv.inputs[1]);
  const b = conv.inputs[2] ? floatInit(g, conv.inputs[2]) : undefined;
  if (!w || (conv.inputs[2] && !b)) return false;
  const m = w.shape[0]!;
  if (p.s.length !== m || (b && b.size !== m)) return false;
  const per = w.size / m;
  const wv = tensorValues(w).map((x, i) => x * p.s[Math.floor(i / per)]!);
  const bv = b ? tensorValues(b) : new Float64Array(m);
  const nb = bv.map((x, i) => (x - p.mean[i]!) * p.s[i]! + p.bias[i]!);
  setWeight(g, idx, names, conv, 1, fromValues(wv, w.shape, w.dtype));
  setWeight(g, idx, names, conv, 2, fromValues(nb, [m], b?.dtype ?? w.dtype));
  return true;
}

/** Gemm → BN: Y = alpha·A·B + beta·C, then per-column affine. */
function foldIntoGemmBefore(g: Graph, idx: UseIndex, names: NameGenerator, gemm: Node, p: BnParams): boolean {
  const bw = floatInit(g, gemm.inputs[1]);
  const c = gemm.inputs[2] ? floatInit(g, gemm.inputs[2]) : undefined;
  if (!bw || bw.rank !== 2 || (gemm.inputs[2] && !c)) return false;
  const tb = getInt(gemm, 'transB', 0) !== 0;
  const n = tb ? bw.shape[0]! : bw.shape[1]!;
  if (p.s.length !== n) return false;
  const cols = bw.shape[1]!;
  const nw = tensorValues(bw).map((x, i) => x * p.s[tb ? Math.floor(i / cols) : i % cols]!);
  const beta = getFloat(gemm, 'beta', 1);
  const cShape = broadcastNumeric([c ? c.shape : [], [n]]);
  if (!cShape || cShape.length > 2) return false;
  const cv = c ? tensorValues(c) : new Float64Array(1);
  const cm = broadcastIndex(cShape, c ? c.shape : []);
  const size = cShape.reduce((a, x) => a * x, 1);
  const nc = new Float64Array(size).map((_, i) => ((c ? beta * cv[cm(i)]! : 0) - p.mean[i % n]!) * p.s[i % n]! + p.bias[i % n]!);
  setWeight(g, idx, names, gemm, 1, fromValues(nw, bw.shape, bw.dtype));
  setWeight(g, idx, names, gemm, 2, fromValues(nc, cShape, c?.dtype ?? bw.dtype));
  gemm.attributes.set('beta', attr.float(1));
  return true;
}

/** BN → Gemm (BN output is A, transA = 0): scale B's rows, fold the shift into C. */
function foldIntoGemmAfter(g: Graph, idx: UseIndex, names: NameGenerator, gemm: Node, p: BnParams): boolean {
  if (getInt(gemm, 'transA', 0) !== 0) return false;
  const bw = floatInit(g, gemm.inputs[1]);
  const c = gemm.inputs[2] ? floatInit(g, gemm.inputs[2]) : undefined;
  if (!bw || bw.rank !== 2 || (gemm.inputs[2] && !c)) return false;
  const tb = getInt(gemm, 'transB', 0) !== 0;
  const [k, n] = tb ? [bw.shape[1]!, bw.shape[0]!] : [bw.shape[0]!, bw.shape[1]!];
  if (p.s.length !== k) return false;
  const bv = tensorValues(bw);
  const at = (kk: number, nn: number): number => bv[tb ? nn * k + kk : kk * n + nn]!;
  const cols = bw.shape[1]!;
  const nw = bv.map((x, i) => x * p.s[tb ? i % cols : Math.floor(i / cols)]!);
  const alpha = getFloat(gemm, 'alpha', 1);
  const beta = getFloat(gemm, 'beta', 1);
  const shift = new Float64Array(n);
  for (let nn = 0; nn < n; nn++) for (let kk = 0; kk < k; kk++) shift[nn]! += p.t[kk]! * at(kk, nn);
  const cShape = broadcastNumeric([c ? c.shape : [], [n]]);
  if (!cShape || cShape.length > 2) return false;
  const cv = c ? tensorValues(c) : new Float64Array(1);
  const cm = broadcastIndex(cShape, c ? c.shape : []);
  const size = cShape.reduce((a, x) => a * x, 1);
  const nc = new Float64Array(size).map((_, i) => (c ? beta * cv[cm(i)]! : 0) + alpha * shift[i % n]!);
  setWeight(g, idx, names, gemm, 1, fromValues(nw, bw.shape, bw.dtype));
  setWeight(g, idx, names, gemm, 2, fromValues(nc, cShape, c?.dtype ?? bw.dtype));
  gemm.attributes.set('beta', attr.float(1));
  return true;
}

/**
 * Fold inference-mode BatchNormalization nodes into a preceding Conv, a preceding Gemm, or a
 * following Gemm (as its input A), in place. Needs BN parameters and the weights to be float
 * initializers and the intermediate value to have no other consumer. Returns the BN nodes folded.
 */
export function foldBatchNorms(g: Graph): { folded: string[]; skipped: string[] } {
  const folded: string[] = [];
  const skipped: string[] = [];
  const names = new NameGenerator(g);
  for (const bn of g.nodes.filter((n) => n.opType === 'BatchNormalization' && isDefaultDomain(n.domain))) {
    const idx = buildUseIndex(g);
    const label = bn.name || bn.outputs[0] || '?';
    const extraUsed = bn.outputs.slice(1).some((o) => o && (idx.consumers.has(o) || idx.graphOutputs.has(o)));
    const p = getInt(bn, 'training_mode', 0) === 0 && !extraUsed ? bnParams(g, bn) : undefined;
    const x = bn.inputs[0]!;
    const y = bn.outputs[0]!;
    if (!p) {
      skipped.push(label);
      continue;
    }
    const prod = idx.producers.get(x)?.node;
    const before = prod && isDefaultDomain(prod.domain) && soleConsumer(idx, x) === bn ? prod : undefined;
    if (before?.opType === 'Conv' && foldIntoConv(g, idx, names, before, p)) {
      before.outputs[0] = y;
    } else if (before?.opType === 'Gemm' && foldIntoGemmBefore(g, idx, names, before, p)) {
      before.outputs[0] = y;
    } else {
      const after = soleConsumer(idx, y);
      if (!(after?.opType === 'Gemm' && isDefaultDomain(after.domain) && after.inputs[0] === y && after.inputs[1] !== y && foldIntoGemmAfter(g, idx, names, after, p))) {
        skipped.push(label);
        continue;
      }
      after.inputs[0] = x;
    }
    g.nodes.splice(g.nodes.indexOf(bn), 1);
    g.valueInfo.delete(before ? x : y);
    folded.push(label);
  }
  return { folded, skipped };
}

/** Pass 'fold-batchnorm'. */
export const foldBatchNormPass = definePass({
  specificationVersion: 'v1',
  name: 'fold-batchnorm',
  description: 'Fold inference BatchNormalization into a preceding Conv or Gemm, or into a following Gemm.',
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const { folded, skipped } = foldBatchNorms(m.graph);
    return {
      model: m,
      report: {
        changed: folded.length > 0,
        summary: `${folded.length} BatchNormalization node(s) folded, ${skipped.length} kept`,
        stats: { folded: folded.length, kept: skipped.length },
        details: { folded, kept: skipped },
      },
    };
  },
});
