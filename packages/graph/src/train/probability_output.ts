/**
 * Classifier outputs that are probabilities (a Softmax's, as skl2onnx and paddle2onnx export
 * them) instead of logits. Cross-entropy and temperature-scaled KL take logits; log(p) serves as
 * them exactly (it differs from the logits by a constant per row, which softmax cancels), so a
 * second softmax is never applied to probabilities.
 */
import { type Tensor, clip, log } from '@whittle/tensor';
import type { Model } from '../ir/types.js';
import { getInt } from '../ir/attributes.js';
import { isDefaultDomain, opsetVersion } from '../ir/graph.js';

/** Floor of p before the log: -log(1e-12) ≈ 27.6 bounds the loss of a confidently wrong sample. */
const P_MIN = 1e-12;

/**
 * Whether graph output `output` is a Softmax over the class axis (through Identity nodes). The
 * axis is compared as written (-1, or the last axis when the output's rank is known; opset < 13's
 * default 1 on a rank-2 output).
 */
export function isSoftmaxOutput(model: Model, output: string, classAxis: number): boolean {
  const g = model.graph;
  let name = output;
  for (let hops = 0; hops < 8; hops++) {
    const n = g.nodes.find((x) => x.outputs.includes(name));
    if (!n || !isDefaultDomain(n.domain)) return false;
    if (n.opType === 'Identity') {
      name = n.inputs[0]!;
      continue;
    }
    if (n.opType !== 'Softmax') return false;
    const opset = opsetVersion(model, '') ?? 13;
    const type = g.outputs.find((o) => o.name === output)?.type;
    const rank = type?.kind === 'tensor' ? type.shape?.length : undefined;
    const axis = getInt(n, 'axis', opset < 13 ? 1 : -1);
    const norm = (a: number): number | undefined => (a >= 0 ? a : rank !== undefined ? a + rank : a);
    if (norm(axis) === norm(classAxis)) return true;
    // -1 against an unknown rank, or opset < 13's flattening default on a [N, classes] output
    return rank === undefined ? axis === classAxis : (axis === 1 && rank === 2 && norm(classAxis) === 1);
  }
  return false;
}

/** log(p) as logits of probabilities `p` (clamped at 1e-12; differentiable). */
export function probabilitiesAsLogits(p: Tensor): Tensor {
  return log(clip(p, P_MIN));
}

/**
 * Whether every row of `x` along its last axis (`classes` values) is a probability distribution:
 * values in [0, 1] summing to 1 (±1e-3). Logits almost never are; a teacher's Softmax output is.
 */
export function rowsAreProbabilities(x: ArrayLike<number>, classes: number): boolean {
  if (classes < 2 || x.length % classes !== 0 || x.length === 0) return false;
  for (let r = 0; r < x.length; r += classes) {
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const v = x[r + k]!;
      if (!(v >= 0 && v <= 1)) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}
