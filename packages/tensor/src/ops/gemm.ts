import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkMatmulDtypes } from './matmul.js';

/** Options of {@link gemm} (ONNX Gemm attributes). */
export interface GemmOptions {
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Scale of `c` (default 1). */
  beta?: number;
  /** Use `a` transposed. */
  transA?: boolean;
  /** Use `b` transposed. */
  transB?: boolean;
}

/**
 * General matrix multiply (ONNX Gemm): `alpha * opA(a) @ opB(b) + beta * c` for 2-D `a` and
 * `b`; `c` (optional) broadcasts unidirectionally to the [M, N] result (scalar, [N], [M, 1], …).
 *
 * ```ts
 * gemm(x, w, bias, { transB: true }) // a fully connected layer with w stored [out, in]
 * ```
 * @throws ShapeError when an operand is not 2-D, the inner dimensions differ, or `c` does not broadcast to [M, N].
 * @throws DTypeError for mixed or unsupported dtypes.
 */
export function gemm(a: Tensor, b: Tensor, c?: Tensor | null, opts: GemmOptions = {}): Tensor {
  checkMatmulDtypes('gemm', a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new ShapeError(`gemm: a and b must be 2-D, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const m = a.shape[transA ? 1 : 0]!;
  const ka = a.shape[transA ? 0 : 1]!;
  const kb = b.shape[transB ? 1 : 0]!;
  const n = b.shape[transB ? 0 : 1]!;
  if (ka !== kb) {
    throw new ShapeError(`gemm: inner dimensions differ: a [${a.shape.join(',')}]${transA ? 'ᵀ' : ''} gives K=${ka}, b [${b.shape.join(',')}]${transB ? 'ᵀ' : ''} gives K=${kb}`);
  }
  const attrs = { alpha: opts.alpha ?? 1, beta: opts.beta ?? 1, transA, transB };
  if (!c) return engine().run1('Gemm', [a, b], attrs);
  if (c.dtype !== a.dtype) throw new DTypeError(`gemm: c has dtype ${c.dtype}, a and b are ${a.dtype}`);
  const ok = c.rank <= 2 && c.shape.every((d, i) => d === 1 || d === [m, n][2 - c.rank + i]);
  if (!ok) throw new ShapeError(`gemm: c [${c.shape.join(',')}] does not broadcast to the result [${m},${n}]`);
  return engine().run1('Gemm', [a, b, c], attrs);
}
