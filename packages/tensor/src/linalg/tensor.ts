import type { BackendName } from '../backend.js';
import { isFloat } from '../dtype.js';
import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { type CholeskyOptions, cholesky, choleskyInverse } from './cholesky.js';
import { type Matrix, matrix } from './matrix.js';
import { qr } from './qr.js';
import { type RandomizedSvdOptions, randomizedSvd } from './randomized_svd.js';
import { type SvdOptions, svd } from './svd.js';

/** Read a 2-D float tensor (any backend, any strides) into a float64 {@link Matrix}. */
export async function tensorToMatrix(t: Tensor, where = 'tensorToMatrix'): Promise<Matrix> {
  if (t.rank !== 2) throw new ShapeError(`${where}: expected a 2-D tensor, got shape [${t.shape.join(',')}]`);
  if (!isFloat(t.dtype)) throw new DTypeError(`${where}: expected a float tensor, got ${t.dtype}`);
  return matrix(t.shape[0]!, t.shape[1]!, await t.toFloat64());
}

/** A float32 tensor [rows, cols] holding a {@link Matrix} (rounded to float32). */
export function matrixToTensor(m: Matrix, backend?: BackendName): Tensor {
  return engine().fromStorage('float32', [m.rows, m.cols], Float32Array.from(m.data), backend);
}

/** Tensor form of an SVD: u [m,k], s [k], vt [k,n] as float32 on the input's backend. */
export interface TensorSVD {
  readonly u: Tensor;
  readonly s: Tensor;
  readonly vt: Tensor;
}

function svdToTensors(r: { u: Matrix; s: Float64Array; vt: Matrix }, backend: BackendName): TensorSVD {
  return {
    u: matrixToTensor(r.u, backend),
    s: engine().fromStorage('float32', [r.s.length], Float32Array.from(r.s), backend),
    vt: matrixToTensor(r.vt, backend),
  };
}

/** {@link svd} of a 2-D float tensor, computed in float64 on the CPU; results are float32. */
export async function svdTensor(t: Tensor, opts: SvdOptions = {}): Promise<TensorSVD> {
  return svdToTensors(svd(await tensorToMatrix(t, 'svdTensor'), opts), t.backend);
}

/** {@link randomizedSvd} of a 2-D float tensor (float64 on the CPU; float32 results). */
export async function randomizedSvdTensor(t: Tensor, rank: number, opts: RandomizedSvdOptions = {}): Promise<TensorSVD> {
  return svdToTensors(randomizedSvd(await tensorToMatrix(t, 'randomizedSvdTensor'), rank, opts), t.backend);
}

/** {@link qr} of a 2-D float tensor: thin q [m,k] and r [k,n] as float32. */
export async function qrTensor(t: Tensor): Promise<{ q: Tensor; r: Tensor }> {
  const r = qr(await tensorToMatrix(t, 'qrTensor'));
  return { q: matrixToTensor(r.q, t.backend), r: matrixToTensor(r.r, t.backend) };
}

/** {@link cholesky} of a square SPD float tensor (float64 on the CPU; float32 result). */
export async function choleskyTensor(t: Tensor, opts: CholeskyOptions = {}): Promise<Tensor> {
  return matrixToTensor(cholesky(await tensorToMatrix(t, 'choleskyTensor'), opts), t.backend);
}

/** {@link choleskyInverse} of a square SPD float tensor (float64 on the CPU; float32 result). */
export async function choleskyInverseTensor(t: Tensor, opts: Omit<CholeskyOptions, 'upper'> = {}): Promise<Tensor> {
  return matrixToTensor(choleskyInverse(await tensorToMatrix(t, 'choleskyInverseTensor'), opts), t.backend);
}
