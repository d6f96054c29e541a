/**
 * The Hessian factor of GPTQ and SparseGPT (the upper Cholesky factor of the damped inverse
 * Hessian), shared by @whittle/quantize and @whittle/prune, which may not import each other.
 */
import { lowerCholesky } from './lower_cholesky.js';
import { lowerTriangularInverse } from './lower_triangular_inverse.js';

/**
 * The upper Cholesky factor U of (H + damping·mean(diag H)·I)⁻¹ (so that H⁻¹ = UᵀU), from one
 * Cholesky factorisation and one triangular inverse instead of inverting H and factorising the
 * inverse: with J the reversal permutation and J·H·J = L·Lᵀ, H = R·Rᵀ for the upper triangular
 * R = J·L·J, so H⁻¹ = (R⁻¹)ᵀ·R⁻¹ and U = R⁻¹ = J·L⁻¹·J (positive diagonal: the unique factor).
 * H is row-major K × K and symmetric (only its upper triangle is read); returns a new K × K array
 * (zeros below the diagonal). The factor and inverse are the register-tiled
 * {@link lowerCholesky} and {@link lowerTriangularInverse}: the same bits as the plain loops.
 * Throws a NumericError naming `where` when the damped H is not positive definite.
 *
 * @param damping relative damping of the diagonal, a fraction of its mean (GPTQ's `percdamp`, e.g. 0.01)
 * @param where the caller's name for the error (e.g. the pass)
 */
export function inverseUpperCholesky(H: Float64Array, K: number, damping: number, where = 'inverseUpperCholesky'): Float64Array {
  let mean = 0;
  for (let i = 0; i < K; i++) mean += H[i * K + i]!;
  const shift = (damping * mean) / Math.max(1, K);
  const rev = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j <= i; j++) rev[i * K + j] = H[(K - 1 - i) * K + (K - 1 - j)]!;
  const X = lowerTriangularInverse(lowerCholesky(rev, K, shift, where), K);
  const U = rev.fill(0);
  for (let i = 0; i < K; i++) for (let j = i; j < K; j++) U[i * K + j] = X[(K - 1 - i) * K + (K - 1 - j)]!;
  return U;
}

