import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { reshape } from './views.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of `a`'s last two axes (ignored for 1-D `a`). */
  transA?: boolean;
  /** Use the transpose of `b`'s last two axes (ignored for 1-D `b`). */
  transB?: boolean;
}

const MATMUL_DTYPES = new Set(['float32', 'float16', 'int32']);

/** @internal Shared dtype check of MatMul and Gemm. */
export function checkMatmulDtypes(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) throw new DTypeError(`${op}: inputs have dtypes ${a.dtype} and ${b.dtype}; cast one of them first`);
  if (!MATMUL_DTYPES.has(a.dtype)) throw new DTypeError(`${op}: dtype ${a.dtype} is not supported (float32, float16, int32); cast first`);
}

/**
 * Matrix product with numpy semantics (ONNX MatMul): operands of rank ≥ 2 multiply their last
 * two axes and broadcast the leading (batch) axes; a 1-D `a` is a row vector and a 1-D `b` a
 * column vector, and the added axis is removed from the result. `transA`/`transB` transpose the
 * last two axes of an operand without copying it.
 *
 * ```ts
 * matmul(x, w)                   // [..., M, K] @ [K, N] → [..., M, N]
 * matmul(q, k, { transB: true }) // [B, T, D] @ [B, T, D]ᵀ → [B, T, T]
 * ```
 * @throws ShapeError when the inner dimensions differ or the batch axes do not broadcast.
 * @throws DTypeError for mixed or unsupported dtypes (float32, float16 and int32 are supported).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkMatmulDtypes('matmul', a, b);
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(`matmul: operands must have rank ≥ 1, got [${a.shape.join(',')}] and [${b.shape.join(',')}]; use mul for scalars`);
  }
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const transA = a.rank > 1 && !!opts.transA;
  const transB = b.rank > 1 && !!opts.transB;
  const ka = a2.shape[a2.rank - (transA ? 2 : 1)]!;
  const kb = b2.shape[b2.rank - (transB ? 1 : 2)]!;
  if (ka !== kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a [${a.shape.join(',')}]${transA ? 'ᵀ' : ''} has ${ka} columns, b [${b.shape.join(',')}]${transB ? 'ᵀ' : ''} has ${kb} rows`,
    );
  }
  let batch: number[];
  try {
    batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  } catch {
    throw new ShapeError(`matmul: batch dimensions of [${a.shape.join(',')}] and [${b.shape.join(',')}] do not broadcast`);
  }
  const y = engine().run1('MatMul', [a2, b2], { transA, transB });
  if (a.rank > 1 && b.rank > 1) return y;
  const m = y.shape[y.rank - 2]!;
  const n = y.shape[y.rank - 1]!;
  return reshape(y, [...batch, ...(a.rank > 1 ? [m] : []), ...(b.rank > 1 ? [n] : [])]);
}
