import { type Graph, type Node, buildUseIndex, isDefaultDomain } from '@whittle/graph';

/** Ops that move quantized values without changing them (onnxruntime's drop-QDQ list). */
const PASS_THROUGH = new Set(['MaxPool', 'Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Gather', 'Slice', 'Resize', 'SpaceToDepth', 'DepthToSpace']);

/** Pooling ops onnxruntime's QDQ transformer fuses as unary QLinear ops (com.microsoft). */
const POOLS = new Set(['GlobalAveragePool', 'AveragePool']);

/**
 * Where the activation QuantizeLinear/DequantizeLinear pairs of static QDQ go so that
 * onnxruntime's CPU QDQ transformers fuse each quantized op (its `qdq_selectors` rules):
 *
 * - a Conv needs a QuantizeLinear on its output (QLinearConv has no float output); a MatMul/Gemm
 *   without one becomes MatMulIntegerToFloat / QGemm with float output, so a MatMul/Gemm output
 *   is quantized only when another quantized op reads it (through a Relu) — a float-only
 *   consumer would pay a Q/DQ round trip for nothing;
 * - an op whose only consumer is a Relu (not a graph output) gets its QuantizeLinear after
 *   the Relu: onnxruntime drops the Relu made redundant by the Q (zero point at the range
 *   start) and fuses DQ → op → Relu → Q into one node; quantizing before and after the Relu
 *   would leave a Q → DQ → Q → DQ chain that runs unfused;
 * - the op's output may have no consumer besides that Q (the selector counts output edges), and
 *   an output that is a graph output cannot be quantized (that Conv is left in float and said so).
 */
export interface QdqLayout {
  /** Activations to quantize (inputs and the chosen output tensor of each op). */
  activations: string[];
  /** Per op node: the tensor whose Q closes its group (op output or folded Relu output). */
  outputOf: Map<Node, string>;
  /** Activations that are the output of a folded Relu/Clip (quantized asymmetric from 0). */
  reluOutputs: Set<string>;
  /** Activations that take the quantization parameters of another (the input of a MaxPool, Flatten, …). */
  sameAs: Map<string, string>;
  /** Ops whose group cannot be fused, with the reason. */
  unfusable: Map<Node, string>;
}

/**
 * A pooling op whose output a quantized op reads (directly or through data-movement ops) gets
 * its input and output quantized too: onnxruntime then runs DQ → pool → Q as
 * QLinearGlobalAveragePool / QLinearAveragePool and, with the pool's input quantized, the
 * residual Add → Relu in front of it as QLinearAdd; otherwise both run in float between a
 * DequantizeLinear and a QuantizeLinear (ResNet's last block and its classifier input).
 */
function quantizePools(g: Graph, idx: ReturnType<typeof buildUseIndex>, acts: Set<string>, graphOut: ReadonlySet<string>, inits: (n: string) => boolean): void {
  const single = (t: string): Node | undefined => {
    const us = (idx.consumers.get(t) ?? []).filter((u) => u.input >= 0);
    return us.length === 1 && us[0]!.input === 0 ? us[0]!.node : undefined;
  };
  for (const n of g.nodes) {
    if (!isDefaultDomain(n.domain) || !POOLS.has(n.opType)) continue;
    const x = n.inputs[0];
    const y = n.outputs[0];
    if (!x || !y || inits(x) || graphOut.has(y)) continue;
    const chain = [y];
    let t = y;
    for (let hop = 0; hop < 8 && !acts.has(t); hop++) {
      const u = single(t);
      if (!u || !isDefaultDomain(u.domain) || !PASS_THROUGH.has(u.opType) || !u.outputs[0] || graphOut.has(t)) break;
      t = u.outputs[0];
      chain.push(t);
    }
    if (!acts.has(t)) continue;
    acts.add(x);
    for (const c of chain) acts.add(c);
  }
}

/** Plan the activation Q/DQ placement for the given quantized op nodes. */
export function planQdqLayout(g: Graph, nodes: readonly Node[], quantizeOutputs: boolean): QdqLayout {
  const inits = (n: string): boolean => g.initializers.has(n) || g.rawInitializers.has(n);
  const graphOut = new Set(g.outputs.map((o) => o.name));
  const idx = buildUseIndex(g);
  const planned = new Set(nodes);
  const acts = new Set<string>();
  const outputOf = new Map<Node, string>();
  const unfusable = new Map<Node, string>();
  const reluOutputs = new Set<string>();
  for (const n of nodes) {
    const float = n.opType === 'Conv' || n.opType === 'Gemm' ? [0] : [0, 1];
    for (const i of float) {
      const x = n.inputs[i];
      if (x && !inits(x)) acts.add(x);
    }
  }
  quantizePools(g, idx, acts, graphOut, inits);
  for (const n of nodes) {
    const y = n.outputs[0];
    if (!y) continue;
    if (graphOut.has(y)) {
      if (n.opType === 'Conv') unfusable.set(n, 'its output is a graph output (QLinearConv needs a QuantizeLinear after the Conv)');
      continue;
    }
    const users = (idx.consumers.get(y) ?? []).filter((u) => u.input >= 0);
    // fold a single Relu/Clip consumer: quantize after it
    let t = y;
    const act = users.length === 1 ? users[0]!.node : undefined;
    if (act?.opType === 'Relu' && act.outputs[0] && !graphOut.has(act.outputs[0]) && !acts.has(y)) {
      t = act.outputs[0];
    }
    const readers = (idx.consumers.get(t) ?? []).filter((u) => u.input >= 0).map((u) => u.node);
    const feedsQuantized = readers.some((r) => planned.has(r)) || acts.has(t);
    if (n.opType === 'Conv' || (quantizeOutputs && feedsQuantized)) {
      acts.add(t);
      outputOf.set(n, t);
      if (t !== y) reluOutputs.add(t);
    }
  }
  // any Relu output is quantized from 0 so onnxruntime can drop the Relu in a DQ → op → Relu → Q group
  for (const a of acts) if (idx.producers.get(a)?.node.opType === 'Relu') reluOutputs.add(a);
  // an output of a data-movement op (MaxPool, Flatten, Reshape, …) whose input is quantized takes
  // the input's scale and zero point: onnxruntime then drops the DQ → op → Q around it
  const sameAs = new Map<string, string>();
  for (const a of acts) {
    const p = idx.producers.get(a)?.node;
    const x = p?.inputs[0];
    if (p && x && isDefaultDomain(p.domain) && PASS_THROUGH.has(p.opType) && acts.has(x)) sameAs.set(a, x);
  }
  return { activations: [...acts], outputOf, reluOutputs, sameAs, unfusable };
}
