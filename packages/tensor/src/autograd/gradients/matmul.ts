import type { Tensor } from '../../tensor.js';
import type { GradientTable } from '../node.js';
import { reduceToShape } from '../reduce_to_shape.js';
import { matmul } from '../../ops/matmul.js';
import { gemm } from '../../ops/gemm.js';
import { mul } from '../../ops/binary.js';
import { full } from '../../ops/creation.js';

type Mm = (x: Tensor, y: Tensor, transX: boolean, transY: boolean) => Tensor;

/**
 * Gradients of Y = opA(A) @ opB(B) through the product `mm` (which applies any scaling):
 * dopA = dY @ opB(B)ᵀ and dopB = opA(A)ᵀ @ dY, transposed back when the operand was.
 */
function productGrads(mm: Mm, dy: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean): [Tensor, Tensor] {
  const da = transA ? mm(b, dy, transB, true) : mm(dy, b, false, !transB);
  const db = transB ? mm(dy, a, true, transA) : mm(a, dy, !transA, false);
  return [reduceToShape(da, a.shape), reduceToShape(db, b.shape)];
}

/** Gradients of MatMul (broadcast batch axes summed back) and Gemm (alpha, beta, C broadcast). */
export const matmulGradients: GradientTable = {
  MatMul: ([dy], { inputs: [a, b], attrs }) =>
    productGrads((x, y, tx, ty) => matmul(x, y, { transA: tx, transB: ty }), dy!, a!, b!, attrs.transA, attrs.transB),
  Gemm: ([dy], { inputs: [a, b, c], attrs }) => {
    const alpha = attrs.alpha;
    const beta = attrs.beta;
    const [da, db] = productGrads((x, y, tx, ty) => gemm(x, y, null, { alpha, transA: tx, transB: ty }), dy!, a!, b!, attrs.transA, attrs.transB);
    if (!c) return [da, db];
    const scaled = beta === 1 ? dy! : mul(dy!, full([], beta, dy!.dtype, { backend: dy!.backend }));
    return [da, db, reduceToShape(scaled, c.shape)];
  },
};
