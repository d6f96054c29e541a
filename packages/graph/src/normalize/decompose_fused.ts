import * as T from '@whittle/tensor';
import { getFloat, getInt, getString } from '../ir/attributes.js';
import { cloneModel, createNode } from '../ir/graph.js';
import { NameGenerator } from '../ir/names.js';
import type { AttributeValue, Graph, Node } from '../ir/types.js';
import { buildUseIndex } from '../ir/uses.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

/**
 * onnxruntime's fusions hide weights from the techniques, which target MatMul/Gemm/Conv: a
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

/** What {@link decomposeFusedWeightOps} did: the decomposed nodes and those left, with why. */
export interface DecomposeFusedResult {
  decomposed: string[];
  skipped: { node: string; reason: string }[];
}

const isMs = (n: Node, op: string): boolean => n.opType === op && n.domain === 'com.microsoft';
const float = (value: number): AttributeValue => ({ type: 'float', value });

function decomposeFusedGemm(g: Graph, n: Node, names: NameGenerator): string | undefined {
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
  return undefined;
}

function decomposeFusedMatMul(g: Graph, n: Node, names: NameGenerator, uses: number): string | undefined {
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
  return undefined;
}

/**
 * Rewrite, in place, each com.microsoft FusedGemm and FusedMatMul of `g` whose weight (input 1)
 * is a float initializer into standard ops with the same results: FusedGemm → Gemm (alpha,
 * beta, transA, transB) + its activation (Relu, Tanh, Sigmoid, LeakyRelu, HardSigmoid, Elu,
 * Selu, Softplus, Softsign, ThresholdedRelu); FusedMatMul (transB, alpha) → MatMul on the
 * transposed weight (a copy when other nodes read it) + Mul by alpha when alpha ≠ 1. Nodes whose
 * weight is computed, or which transpose the data operand, are left and reported.
 */
export function decomposeFusedWeightOps(g: Graph): DecomposeFusedResult {
  const names = new NameGenerator(g);
  const inputs = new Set(g.inputs.map((v) => v.name));
  const decomposed: string[] = [];
  const skipped: { node: string; reason: string }[] = [];
  for (const n of g.nodes.filter((x) => isMs(x, 'FusedGemm') || isMs(x, 'FusedMatMul'))) {
    const label = n.name || n.outputs[0]!;
    const b = g.initializers.get(n.inputs[1] ?? '');
    if (!b || inputs.has(n.inputs[1]!) || !T.isFloat(b.dtype)) continue; // not a constant weight: nothing to reach
    const uses = buildUseIndex(g).consumers.get(n.inputs[1]!)?.length ?? 0;
    const why = n.opType === 'FusedGemm' ? decomposeFusedGemm(g, n, names) : decomposeFusedMatMul(g, n, names, uses);
    if (why) skipped.push({ node: label, reason: why });
    else decomposed.push(label);
  }
  return { decomposed, skipped };
}

/** Pass 'decompose-fused-ops'. */
export const decomposeFusedOpsPass = definePass({
  specificationVersion: 'v1',
  name: 'decompose-fused-ops',
  description: "Rewrite onnxruntime's FusedGemm / FusedMatMul that read a constant weight into Gemm + activation / MatMul (+ Mul by alpha), so the techniques reach that weight; onnxruntime fuses them again at session creation.",
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const { decomposed, skipped } = decomposeFusedWeightOps(m.graph);
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
