import type { Tensor } from '@whittle/tensor';
import { fromValues } from '../fold/layout.js';
import { subgraphsOf } from '../ir/attributes.js';
import { isDefaultDomain } from '../ir/graph.js';
import type { Graph, Node, RawTensor } from '../ir/types.js';

/** Element types of weights stored as they are computed with. */
const FLOAT = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/** Inputs that read a float tensor as a shape-like argument, not as a weight (op → input indices). */
const NOT_WEIGHT: Record<string, readonly number[]> = { Resize: [1, 2], Upsample: [1] };

/** Inputs that hold a quantized weight (op, with `domain:` outside the default domain → input indices). */
const QUANTIZED_WEIGHT: Record<string, readonly number[]> = {
  DequantizeLinear: [0],
  MatMulInteger: [1],
  ConvInteger: [1],
  QLinearMatMul: [3],
  QLinearConv: [3],
  'com.microsoft:MatMulNBits': [1],
  'com.microsoft:MatMulBnb4': [1],
  'com.microsoft:GatherBlockQuantized': [0],
  'com.microsoft:DynamicQuantizeMatMul': [1],
  'com.microsoft:MatMulIntegerToFloat': [1],
  'com.microsoft:QGemm': [3],
};

const opKey = (n: Node): string => (isDefaultDomain(n.domain) ? n.opType : `${n.domain}:${n.opType}`);

/** The tensor a Constant node holds as a `value` tensor or `value_floats` (undefined for scalars, int lists, strings). */
export function constantTensor(n: Node): Tensor | RawTensor | undefined {
  const [name, a] = n.attributes.size === 1 ? [...n.attributes][0]! : [];
  if (name === 'value' && a?.type === 'tensor') return a.value;
  if (name === 'value_floats' && a?.type === 'floats') return fromValues(a.value, [a.value.length], 'float32');
  return undefined; // scalars (value_float, value_int), int lists, strings, sparse: never weights
}

/** Element types of shapes, axes, indices and flags: never weights unless a quantized op reads them as one. */
const INDEX_TYPES = new Set(['int64', 'int32', 'uint64', 'uint32', 'bool', 'string']);

/**
 * Whether a stored tensor counts as a weight by its own type: more than one element, not of an
 * index type (int64/int32/bool…: shapes, axes, indices). Scalars and shape constants are not
 * weights, so folding a Constant node into an initializer does not change a model's count.
 */
export function isWeightTensor(t: Tensor | RawTensor): boolean {
  const [dtype, size] = 'storage' in t ? [t.dtype as string, t.size] : [t.dataType as string, t.dims.reduce((a, b) => a * b, 1)];
  return size > 1 && !INDEX_TYPES.has(dtype);
}

/**
 * The Constant nodes of `g` (not of its subgraphs) that hold weights, by output name — the
 * tensors that count as parameters alongside initializers (paddle2onnx and some torch exports
 * store every weight this way). A Constant is a weight when its tensor is
 * - floating point (float32, float16, bfloat16, float64) with more than one element, unless every
 *   reader takes it as a shape-like argument (Resize/Upsample scales and roi); or
 * - of any other element type and read as the weight of a quantized op (DequantizeLinear's x,
 *   the B/W input of MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv, MatMulNBits,
 *   MatMulIntegerToFloat, DynamicQuantizeMatMul, QGemm, GatherBlockQuantized's data).
 * Scalars, shapes, axes and indices (int64/int32 constants, one-element floats) are not weights.
 */
export function constantWeights(g: Graph): Map<string, Tensor | RawTensor> {
  // readers in `g` and in its subgraphs (which may read `g`'s values by name)
  const readers = new Map<string, { key: string; input: number }[]>();
  const visit = (graph: Graph): void => {
    for (const n of graph.nodes) {
      n.inputs.forEach((x, i) => {
        if (x) (readers.get(x) ?? readers.set(x, []).get(x)!).push({ key: opKey(n), input: i });
      });
      for (const sg of subgraphsOf(n)) visit(sg);
    }
  };
  visit(g);
  const out = new Map<string, Tensor | RawTensor>();
  for (const n of g.nodes) {
    const name = n.outputs[0];
    if (n.opType !== 'Constant' || !isDefaultDomain(n.domain) || !name) continue;
    const t = constantTensor(n);
    if (!t) continue;
    const [dtype, size] = 'storage' in t ? [t.dtype as string, t.size] : [t.dataType as string, t.dims.reduce((a, b) => a * b, 1)];
    const uses = readers.get(name) ?? [];
    const weight = FLOAT.has(dtype)
      ? size > 1 && (uses.length === 0 || uses.some((u) => !NOT_WEIGHT[u.key]?.includes(u.input)))
      : uses.some((u) => QUANTIZED_WEIGHT[u.key]?.includes(u.input));
    if (weight) out.set(name, t);
  }
  return out;
}
