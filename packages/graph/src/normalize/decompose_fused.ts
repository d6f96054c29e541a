import * as T from '@whittle/tensor';
import { getFloat, getInt, getString } from '../ir/attributes.js';
import { cloneModel, createNode, opsetVersion } from '../ir/graph.js';
import { NameGenerator } from '../ir/names.js';
import type { AttributeValue, Graph, Node } from '../ir/types.js';
import { buildUseIndex } from '../ir/uses.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';
import { type DecomposedAttention, decomposeAttention, recomposeAttention } from './decompose_attention.js';

/**
 * onnxruntime's fusions hide weights from the techniques, which target MatMul/Gemm/Conv: an
 * Attention's packed QKV weight (see decompose_attention.ts), or a
 * FusedGemm (Gemm + activation, e.g. a BERT pooler) or a FusedMatMul (MatMul with alpha and
 * transposes) that reads a constant weight is rewritten into the standard ops it fused —
 * Gemm + the activation node; MatMul on the weight transposed once (transB) + Mul by alpha —
 * which compute the same values and which onnxruntime fuses again when it creates a session.
 */

/** FusedGemm activations that are ONNX ops, with the attributes they take from activation_*. */
const ACTIVATIONS: Record<string, readonly ('alpha' | 'beta' | 'gamma')[]> = {
  Relu: [],
  Tanh: [],
  Sigmoid: [],
  Softplus: [],
  Softsign: [],
  LeakyRelu: ['alpha'],
  Elu: ['alpha'],
  ThresholdedRelu: ['alpha'],
  HardSigmoid: ['alpha', 'beta'],
  Selu: ['alpha', 'gamma'],
};

/** One fused node rewritten by {@link decomposeFusedWeightOps}, as {@link recomposeFusedWeightOps} needs it. */
export interface DecomposedFused {
  /** The fused node as it was. */
  original: Node;
  /** Names of the nodes that replaced it, in order (Gemm, activation / MatMul, Mul). */
  nodes: string[];
  /** The initializer the first of them reads as its weight. */
  weight: string;
  /** Whether that weight holds the fused node's weight transposed (FusedMatMul's transB). */
  transposed: boolean;
}

/** What {@link decomposeFusedWeightOps} did: the decomposed nodes and those left, with why. */
export interface DecomposeFusedResult {
  decomposed: string[];
  skipped: { node: string; reason: string }[];
  /** The rewrites, for {@link recomposeFusedWeightOps}. */
  records: (DecomposedFused | DecomposedAttention)[];
}

const isMs = (n: Node, op: string): boolean => n.opType === op && n.domain === 'com.microsoft';
const float = (value: number): AttributeValue => ({ type: 'float', value });

function decomposeFusedGemm(g: Graph, n: Node, names: NameGenerator): DecomposedFused | string {
  const act = getString(n, 'activation', '');
  const params = ACTIVATIONS[act];
  if (!params) return `activation '${act}' has no ONNX op`;
  const attrs: Record<string, AttributeValue> = {};
  for (const p of params) {
    const v = getFloat(n, `activation_${p}`);
    if (v === undefined) return `activation_${p} missing`;
    attrs[p] = float(v);
  }
  const base = n.name || n.outputs[0]!;
  const gemmOut = names.value(`${base}_gemm`);
  const gemmAttrs: Record<string, AttributeValue> = {
    alpha: float(getFloat(n, 'alpha', 1)),
    beta: float(getFloat(n, 'beta', 1)),
    transA: { type: 'int', value: getInt(n, 'transA', 0) },
    transB: { type: 'int', value: getInt(n, 'transB', 0) },
  };
  const gemm = createNode('Gemm', [...n.inputs], [gemmOut], gemmAttrs, { name: names.node(n.name || 'Gemm') });
  const activation = createNode(act, [gemmOut], [...n.outputs], attrs, { name: names.node(`${base}_${act}`) });
  g.nodes.splice(g.nodes.indexOf(n), 1, gemm, activation);
  return { original: n, nodes: [gemm.name, activation.name], weight: n.inputs[1]!, transposed: false };
}

function decomposeFusedMatMul(g: Graph, n: Node, names: NameGenerator, uses: number): DecomposedFused | string {
  if (getInt(n, 'transA', 0) || getInt(n, 'transBatchA', 0) || getInt(n, 'transBatchB', 0)) return 'transA / transBatchA / transBatchB set (the data operand is transposed)';
  const bName = n.inputs[1]!;
  const b = g.initializers.get(bName)!;
  const transB = getInt(n, 'transB', 0) === 1;
  if (transB && b.rank < 2) return 'transB on a 1-D weight';
  let weight = bName;
  if (transB) {
    const perm = [...Array.from({ length: b.rank - 2 }, (_, i) => i), b.rank - 1, b.rank - 2];
    weight = uses > 1 ? names.value(`${bName}_transposed`) : bName;
    g.initializers.set(weight, T.transpose(b, perm));
    if (weight === bName) g.valueInfo.delete(bName);
  }
  const alpha = getFloat(n, 'alpha', 1);
  const base = n.name || n.outputs[0]!;
  const mmOut = alpha === 1 ? n.outputs[0]! : names.value(`${base}_matmul`);
  const nodes = [createNode('MatMul', [n.inputs[0]!, weight], [mmOut], {}, { name: names.node(n.name || 'MatMul') })];
  if (alpha !== 1) {
    const scale = names.value(`${base}_alpha`);
    g.initializers.set(scale, T.tensor([alpha], [], b.dtype, { backend: 'cpu' }));
    nodes.push(createNode('Mul', [mmOut, scale], [...n.outputs], {}, { name: names.node(`${base}_alpha`) }));
  }
  g.nodes.splice(g.nodes.indexOf(n), 1, ...nodes);
  return { original: n, nodes: nodes.map((x) => x.name), weight, transposed: transB };
}

/**
 * Rewrite, in place, each com.microsoft FusedGemm and FusedMatMul of `g` whose weight (input 1)
 * is a float initializer into standard ops with the same results: FusedGemm → Gemm (alpha,
 * beta, transA, transB) + its activation (Relu, Tanh, Sigmoid, LeakyRelu, HardSigmoid, Elu,
 * Selu, Softplus, Softsign, ThresholdedRelu); FusedMatMul (transB, alpha) → MatMul on the
 * transposed weight (a copy when other nodes read it) + Mul by alpha when alpha ≠ 1; Attention →
 * MatMul + Add bias + Split + MultiHeadAttention (see `decomposeAttention`; `opset`, the
 * default domain's, picks Split's form). Nodes whose weight is computed, which transpose the data
 * operand, or whose attention form MultiHeadAttention does not compute alike (past / present,
 * 3-D masks…), are left and reported.
 */
export function decomposeFusedWeightOps(g: Graph, opset = 21): DecomposeFusedResult {
  const names = new NameGenerator(g);
  const inputs = new Set(g.inputs.map((v) => v.name));
  const decomposed: string[] = [];
  const skipped: { node: string; reason: string }[] = [];
  const records: (DecomposedFused | DecomposedAttention)[] = [];
  for (const n of g.nodes.filter((x) => isMs(x, 'FusedGemm') || isMs(x, 'FusedMatMul') || isMs(x, 'Attention'))) {
    const label = n.name || n.outputs[0]!;
    const b = g.initializers.get(n.inputs[1] ?? '');
    if (!b || inputs.has(n.inputs[1]!) || !T.isFloat(b.dtype)) continue; // not a constant weight: nothing to reach
    const uses = buildUseIndex(g).consumers.get(n.inputs[1]!)?.length ?? 0;
    const r = n.opType === 'FusedGemm' ? decomposeFusedGemm(g, n, names) : n.opType === 'Attention' ? decomposeAttention(g, n, names, opset) : decomposeFusedMatMul(g, n, names, uses);
    if (typeof r === 'string') skipped.push({ node: label, reason: r });
    else (decomposed.push(label), records.push(r));
  }
  return { decomposed, skipped, records };
}

const swapLast = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

/**
 * Undo, in place, each rewrite of `records` that a technique left as it was: the replacement
 * nodes still chained as written (each intermediate read only by the next) and the first still
 * reading its weight as a float initializer — trained or pruned values included — become the
 * fused node again (FusedMatMul's weight transposed back). So a model whose fused weights no
 * technique changed in form keeps onnxruntime's fused layout; one whose weight is now quantized
 * (DequantizeLinear, MatMulNBits, MatMulInteger) keeps the standard ops, which onnxruntime's
 * quantized fusions read. Returns how many were restored.
 */
export function recomposeFusedWeightOps(g: Graph, records: readonly (DecomposedFused | DecomposedAttention)[]): number {
  let restored = 0;
  for (const r of records) {
    if (!('transposed' in r)) {
      if (recomposeAttention(g, r)) restored++;
      continue;
    }
    const nodes = r.nodes.map((name) => g.nodes.find((n) => n.name === name));
    if (nodes.some((n) => !n)) continue;
    const chain = nodes as Node[];
    const w = g.initializers.get(r.weight);
    if (chain[0]!.inputs[1] !== r.weight || !w || !T.isFloat(w.dtype)) continue;
    const uses = buildUseIndex(g);
    const outputs = new Set(g.outputs.map((o) => o.name));
    const linked = chain.slice(0, -1).every((n, i) => {
      const out = n.outputs[0]!;
      const readers = uses.consumers.get(out) ?? [];
      return !outputs.has(out) && readers.length === 1 && readers[0]!.node === chain[i + 1] && chain[i + 1]!.inputs[0] === out;
    });
    if (!linked) continue;
    if (r.transposed) {
      if ((uses.consumers.get(r.weight) ?? []).length !== 1) continue;
      g.initializers.set(r.weight, T.transpose(w, swapLast(w.rank)));
      g.valueInfo.delete(r.weight);
    }
    const first = chain[0]!;
    const fused = createNode(r.original.opType, [first.inputs[0]!, r.weight, ...first.inputs.slice(2)], [...chain[chain.length - 1]!.outputs], r.original.attributes, { name: r.original.name, domain: r.original.domain });
    g.nodes.splice(g.nodes.indexOf(first), 1, fused);
    for (const n of chain.slice(1)) {
      g.nodes.splice(g.nodes.indexOf(n), 1);
      // the alpha scalar of a Mul is no one's now
      for (const x of n.inputs.slice(1)) if (g.initializers.has(x) && !(buildUseIndex(g).consumers.get(x) ?? []).length) g.initializers.delete(x);
    }
    for (const n of chain.slice(0, -1)) g.valueInfo.delete(n.outputs[0]!);
    restored++;
  }
  return restored;
}

/** Pass 'decompose-fused-ops'. */
export const decomposeFusedOpsPass = definePass({
  specificationVersion: 'v1',
  name: 'decompose-fused-ops',
  description: "Rewrite onnxruntime's FusedGemm / FusedMatMul / Attention that read a constant weight into Gemm + activation / MatMul (+ Mul by alpha) / MatMul + Add + Split + MultiHeadAttention, so the techniques reach that weight; onnxruntime fuses them again at session creation.",
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const { decomposed, skipped } = decomposeFusedWeightOps(m.graph, opsetVersion(m) ?? 21);
    return {
      model: m,
      report: {
        changed: decomposed.length > 0,
        summary: `${decomposed.length} fused op(s) with a constant weight decomposed into standard ops`,
        stats: { decomposed: decomposed.length, skipped: skipped.length },
        details: { decomposed, skipped },
      },
    };
  },
});
