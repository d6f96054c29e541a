import { subgraphsOf } from '../ir/attributes.js';
import { isDefaultDomain } from '../ir/graph.js';
import type { Graph, Model } from '../ir/types.js';

/** Ops that compute with integer (already quantized) weights: op (with `domain:` outside the default domain) → weight input. */
const INTEGER_WEIGHT_OPS: Record<string, number> = {
  MatMulInteger: 1,
  ConvInteger: 1,
  QLinearMatMul: 3,
  QLinearConv: 3,
  DequantizeLinear: 0,
  'com.microsoft:MatMulNBits': 1,
  'com.microsoft:MatMulBnb4': 1,
  'com.microsoft:GatherBlockQuantized': 0,
  'com.microsoft:DynamicQuantizeMatMul': 1,
  'com.microsoft:MatMulIntegerToFloat': 1,
  'com.microsoft:QGemm': 3,
};

/**
 * Layers of a model whose weights are already integers, by op type (subgraphs included): the
 * quantized ops above whose weight input is a stored tensor (an initializer or a Constant node of
 * the graph or an enclosing one; a DequantizeLinear of activations is not a layer). Whittle's
 * compression passes work on float weights and leave these as they are, so a model quantized
 * elsewhere (e.g. a Transformers.js `model_quantized.onnx`) has little left for them to compress.
 */
export function integerWeightLayers(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  const visit = (g: Graph, outer: ReadonlySet<string>): void => {
    const stored = new Set(outer);
    for (const k of g.initializers.keys()) stored.add(k);
    for (const k of g.rawInitializers.keys()) stored.add(k);
    for (const n of g.nodes) if (n.opType === 'Constant' && isDefaultDomain(n.domain) && n.outputs[0]) stored.add(n.outputs[0]);
    for (const n of g.nodes) {
      const key = isDefaultDomain(n.domain) ? n.opType : `${n.domain}:${n.opType}`;
      const w = INTEGER_WEIGHT_OPS[key];
      if (w !== undefined && stored.has(n.inputs[w] ?? '')) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
      for (const s of subgraphsOf(n)) visit(s, stored);
    }
  };
  visit(model.graph, new Set());
  return counts;
}

const INTEGER_TYPES = new Set(['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4']);
const FLOAT_CASTS = new Set([1, 10, 16]);

/**
 * Weights stored as integers and dequantized by the graph itself (an integer initializer of 16 or
 * more elements read by a Cast to float, then scaled by Mul/Sub/Add, as Transformers.js ships the
 * Conv weights of a dynamic-int8 model), in every graph. The front end folds these into float32
 * initializers, four times their stored bytes, so no float technique makes them smaller than they
 * were. Returns the count by stored element type.
 */
export function castDequantizedWeights(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  const visit = (g: Graph, outer: ReadonlyMap<string, string>): void => {
    const stored = new Map(outer);
    for (const [k, t] of g.initializers) if (INTEGER_TYPES.has(t.dtype) && t.size >= 16) stored.set(k, t.dtype);
    for (const [k, t] of g.rawInitializers) if (INTEGER_TYPES.has(t.dataType) && t.dims.reduce((a, b) => a * b, 1) >= 16) stored.set(k, t.dataType);
    const seen = new Set<string>();
    for (const n of g.nodes) {
      const to = n.attributes.get('to');
      const x = n.inputs[0] ?? '';
      if (n.opType === 'Cast' && isDefaultDomain(n.domain) && to?.type === 'int' && FLOAT_CASTS.has(to.value) && stored.has(x) && !seen.has(x)) {
        seen.add(x);
        counts[stored.get(x)!] = (counts[stored.get(x)!] ?? 0) + 1;
      }
      for (const s of subgraphsOf(n)) visit(s, stored);
    }
  };
  visit(model.graph, new Map());
  return counts;
}
