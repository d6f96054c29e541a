import type { DType } from '../../../dtype.js';
import { BackendError } from '../../../errors.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import { type GpuProgram, type GpuTensor, wgslType } from '../backend.js';
import { Uniforms, declareBindings, offsetFn, roundF16 } from '../wgsl.js';

/** Output tile per workgroup (TILE×TILE), K step, threads per side (each computes 4×4). */
const TILE = 64;
const KT = 16;
const THREADS = 16;

export interface MatmulProgramArgs {
  readonly a: GpuTensor;
  readonly b: GpuTensor;
  readonly transA: boolean;
  readonly transB: boolean;
  /** Gemm epilogue: alpha * acc + beta * C (C broadcast to [M, N]). */
  readonly gemm?: { readonly alpha: number; readonly beta: number; readonly c: GpuTensor | null };
  readonly name: string;
}

/** Sizes/strides of the last two axes of an operand after the optional transpose. */
function mat(t: GpuTensor, trans: boolean): { rows: number; cols: number; rs: number; cs: number } {
  const r = t.shape.length;
  const [d0, d1, s0, s1] = [t.shape[r - 2]!, t.shape[r - 1]!, t.strides[r - 2]!, t.strides[r - 1]!];
  return trans ? { rows: d1, cols: d0, rs: s1, cs: s0 } : { rows: d0, cols: d1, rs: s0, cs: s1 };
}

/**
 * Tiled matmul program: each 16×16 workgroup computes a 64×64 output tile, staging 64×16 and
 * 16×64 slices of the operands in workgroup memory; each thread accumulates a 4×4 register
 * block. Batches run along dispatch z; operand strides (transposes, views) come from uniforms.
 */
export function matmulProgram({ a, b, transA, transB, gemm, name }: MatmulProgramArgs): GpuProgram {
  const A = mat(a, transA);
  const B = mat(b, transB);
  const M = A.rows;
  const K = A.cols;
  const N = B.cols;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const batches = sizeOf(batch);
  if (batches > 65535) throw new BackendError(`webgpu ${name}: ${batches} batch matrices exceed the 65,535 dispatch limit; reshape into fewer batches`);
  const dtype: DType = a.dtype;
  const t = wgslType(dtype);
  const zero = t === 'f32' ? '0.0' : '0';
  const u = new Uniforms();
  u.add(M, N, K, A.rs, A.cs, B.rs, B.cs);
  const R = batch.length;
  const shapeAt = u.add(...batch);
  const saAt = u.add(...broadcastStrides(aBatch, a.strides.slice(0, -2), batch));
  const aOff = u.add(a.offset);
  const sbAt = u.add(...broadcastStrides(bBatch, b.strides.slice(0, -2), batch));
  const bOff = u.add(b.offset);
  const c = gemm?.c ?? null;
  let epilogue = 'v';
  let cDecl = '';
  if (gemm) {
    const ab = u.addF32(gemm.alpha, gemm.beta);
    const scale = (x: string, at: number): string => (t === 'f32' ? `bitcast<f32>(u[${at}]) * ${x}` : `i32(bitcast<f32>(u[${at}]) * f32(${x}))`);
    epilogue = scale('v', ab);
    if (c) {
      const cs = broadcastStrides(c.shape, c.strides, [M, N]);
      const cAt = u.add(cs[0]!, cs[1]!, c.offset);
      cDecl = `fn cAt(m: i32, n: i32) -> ${t} { return Cm[u[${cAt + 2}] + m * u[${cAt}] + n * u[${cAt + 1}]]; }`;
      epilogue = `${epilogue} + ${scale('cAt(gm, gn)', ab + 1)}`;
    }
  }
  if (dtype === 'float16') epilogue = roundF16(epilogue);
  const inputs = c ? [a, b, c] : [a, b];
  const bindings = [{ name: 'Am', dtype }, { name: 'Bm', dtype }, ...(c ? [{ name: 'Cm', dtype }] : [])];
  const source = (): string => `${declareBindings(bindings, [{ name: 'Y', dtype }])}
${offsetFn('offA', R, shapeAt, saAt, aOff)}
${offsetFn('offB', R, shapeAt, sbAt, bOff)}
${cDecl}
var<workgroup> As: array<${t}, ${TILE * KT}>;
var<workgroup> Bs: array<${t}, ${TILE * KT}>;
@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = u[0]; let N = u[1]; let K = u[2];
  let rsA = u[3]; let csA = u[4]; let rsB = u[5]; let csB = u[6];
  let bi = i32(wg.z);
  let oA = offA(bi);
  let oB = offB(bi);
  let row0 = i32(wg.y) * ${TILE};
  let col0 = i32(wg.x) * ${TILE};
  let lx = i32(lid.x);
  let ly = i32(lid.y);
  let tid = ly * ${THREADS} + lx;
  var acc: array<${t}, 16>;
  for (var i = 0; i < 16; i++) { acc[i] = ${zero}; }
  for (var k0 = 0; k0 < K; k0 += ${KT}) {
    for (var l = 0; l < ${(TILE * KT) / (THREADS * THREADS)}; l++) {
      let e = tid + l * ${THREADS * THREADS};
      let am = e / ${KT};
      let ak = e % ${KT};
      var av: ${t} = ${zero};
      if (row0 + am < M && k0 + ak < K) { av = Am[oA + (row0 + am) * rsA + (k0 + ak) * csA]; }
      As[ak * ${TILE} + am] = av;
      let bk = e / ${TILE};
      let bn = e % ${TILE};
      var bv: ${t} = ${zero};
      if (k0 + bk < K && col0 + bn < N) { bv = Bm[oB + (k0 + bk) * rsB + (col0 + bn) * csB]; }
      Bs[bk * ${TILE} + bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${KT}; kk++) {
      let ar = kk * ${TILE} + ly;
      let br = kk * ${TILE} + lx;
      let a0 = As[ar]; let a1 = As[ar + 16]; let a2 = As[ar + 32]; let a3 = As[ar + 48];
      let b0 = Bs[br]; let b1 = Bs[br + 16]; let b2 = Bs[br + 32]; let b3 = Bs[br + 48];
      acc[0] += a0 * b0; acc[1] += a0 * b1; acc[2] += a0 * b2; acc[3] += a0 * b3;
      acc[4] += a1 * b0; acc[5] += a1 * b1; acc[6] += a1 * b2; acc[7] += a1 * b3;
      acc[8] += a2 * b0; acc[9] += a2 * b1; acc[10] += a2 * b2; acc[11] += a2 * b3;
      acc[12] += a3 * b0; acc[13] += a3 * b1; acc[14] += a3 * b2; acc[15] += a3 * b3;
    }
    workgroupBarrier();
  }
  let base = bi * M * N;
  for (var i = 0; i < 4; i++) {
    let gm = row0 + ly + 16 * i;
    if (gm >= M) { continue; }
    for (var j = 0; j < 4; j++) {
      let gn = col0 + lx + 16 * j;
      if (gn >= N) { continue; }
      let v = acc[i * 4 + j];
      Y[base + gm * N + gn] = ${epilogue};
    }
  }
}`;
  return {
    key: `${name}:${dtype}:${R}:${gemm ? (c ? 'c' : 'noc') : ''}`,
    source,
    inputs,
    outputs: [{ dtype, shape: [...batch, M, N] }],
    uniforms: u.values,
    dispatch: [Math.ceil(N / TILE), Math.ceil(M / TILE), batches],
  };
}
