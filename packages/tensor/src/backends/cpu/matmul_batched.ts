import type { TensorInfo } from '../../backend.js';
import { type DType, type StorageArray, allocStorage, float16BitsToFloat32 } from '../../dtype.js';
import { float32BitsToFloat16 } from '../../float16_array.js';
import { DTypeError } from '../../errors.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../shape.js';
import { cpuValues } from './backend.js';
import { type MatView, sgemm } from './sgemm.js';

/** The matrix part of a (batched) operand: sizes and strides of its last two axes after transposing. */
interface Operand {
  rows: number;
  cols: number;
  rs: number;
  cs: number;
  batchShape: number[];
  batchStrides: number[];
}

function operand(t: TensorInfo, trans: boolean): Operand {
  const r = t.shape.length;
  const d0 = t.shape[r - 2]!;
  const d1 = t.shape[r - 1]!;
  const s0 = t.strides[r - 2]!;
  const s1 = t.strides[r - 1]!;
  return {
    rows: trans ? d1 : d0,
    cols: trans ? d0 : d1,
    rs: trans ? s1 : s0,
    cs: trans ? s0 : s1,
    batchShape: t.shape.slice(0, r - 2),
    batchStrides: t.strides.slice(0, r - 2),
  };
}

/** Result shape of a batched matmul of rank ≥ 2 operands (validated by the op). */
export function matmulShape(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): number[] {
  const A = operand(a, transA);
  const B = operand(b, transB);
  return [...broadcastShapes(A.batchShape, B.batchShape), A.rows, B.cols];
}

/** Float32 values of a float32 or float16 tensor's storage (float16 decoded). */
function floatValues(t: TensorInfo): Float32Array {
  if (t.dtype === 'float32') return cpuValues(t);
  if (t.dtype === 'float16') {
    const h = cpuValues<Uint16Array>(t);
    const f = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) f[i] = float16BitsToFloat32(h[i]!);
    return f;
  }
  throw new DTypeError(`matmul (cpu): unsupported dtype ${t.dtype}`);
}

/**
 * out[batch] += alpha * opA(a)[batch] @ opB(b)[batch] for rank ≥ 2 operands with numpy batch
 * broadcasting and any strides; `out` is contiguous [...batch, M, N] and already initialised.
 * Floats go through `sgemm`, int32 through an exact wrapping integer loop. `outZero`: `out` is
 * all zeros (a fresh accumulator), which spares the WASM tier copying it in.
 */
export function batchedMatmulInto(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean, alpha: number, out: StorageArray, outZero = false): void {
  const A = operand(a, transA);
  const B = operand(b, transB);
  const M = A.rows;
  const K = A.cols;
  const N = B.cols;
  const batchShape = broadcastShapes(A.batchShape, B.batchShape);
  const sa = broadcastStrides(A.batchShape, A.batchStrides, batchShape);
  const sb = broadcastStrides(B.batchShape, B.batchStrides, batchShape);
  const batches = sizeOf(batchShape);
  if (batches === 0 || M === 0 || N === 0) return;
  const isInt = a.dtype === 'int32';
  const av = isInt ? cpuValues<Int32Array>(a) : floatValues(a);
  const bv = isInt ? cpuValues<Int32Array>(b) : floatValues(b);
  // B shared by every batch and A's batches laid out as consecutive rows: one tall product.
  if (!isInt && batches > 1 && sb.every((s) => s === 0) && rowsFold(batchShape, sa, M, A.rs)) {
    sgemm(batches * M, N, K, alpha, { data: av as Float32Array, off: a.offset, rs: A.rs, cs: A.cs }, { data: bv as Float32Array, off: b.offset, rs: B.rs, cs: B.cs }, out as Float32Array, 0, N, outZero);
    return;
  }
  const rank = batchShape.length;
  const idx = new Array<number>(rank).fill(0);
  let oa = a.offset;
  let ob = b.offset;
  for (let n = 0; n < batches; n++) {
    if (isInt) intMatmul(M, N, K, alpha, av as Int32Array, oa, A, bv as Int32Array, ob, B, out as Int32Array, n * M * N);
    else {
      const va: MatView = { data: av as Float32Array, off: oa, rs: A.rs, cs: A.cs };
      const vb: MatView = { data: bv as Float32Array, off: ob, rs: B.rs, cs: B.cs };
      sgemm(M, N, K, alpha, va, vb, out as Float32Array, n * M * N, N, outZero);
    }
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      oa += sa[d]!;
      ob += sb[d]!;
      if (idx[d]! < batchShape[d]!) break;
      oa -= sa[d]! * batchShape[d]!;
      ob -= sb[d]! * batchShape[d]!;
      idx[d] = 0;
    }
  }
}

/** Whether batch strides `sa` continue A's rows (stride `rs`) so batch×M rows form one matrix. */
function rowsFold(batchShape: readonly number[], sa: readonly number[], M: number, rs: number): boolean {
  let expect = M * rs;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    if (batchShape[d] !== 1 && sa[d] !== expect) return false;
    expect *= batchShape[d]!;
  }
  return true;
}

function intMatmul(M: number, N: number, K: number, alpha: number, a: Int32Array, oa: number, A: Operand, b: Int32Array, ob: number, B: Operand, out: Int32Array, oo: number): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0, pa = oa + i * A.rs, pb = ob + j * B.cs; k < K; k++, pa += A.cs, pb += B.rs) s = (s + Math.imul(a[pa]!, b[pb]!)) | 0;
      out[oo + i * N + j] = (out[oo + i * N + j]! + (alpha === 1 ? s : Math.trunc(alpha * s))) | 0;
    }
  }
}

/** Allocate the accumulation buffer for `dtype` (float16 accumulates in float32). */
export function accumulator(dtype: DType, size: number): StorageArray {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

/** Convert a float32 accumulator to the output dtype's storage. */
export function finishOutput(dtype: DType, acc: StorageArray): StorageArray {
  if (dtype !== 'float16') return acc;
  const out = allocStorage('float16', acc.length) as Uint16Array;
  const f = acc as Float32Array;
  float32BitsToFloat16(new Uint32Array(f.buffer, f.byteOffset, f.length), out);
  return out;
}
