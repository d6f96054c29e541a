import { type Node, attr, createNode, getFloat, getInt } from '@whittle/graph';
import { ArgumentError, type Matrix, frobeniusNorm, matrix, singularSubspaces } from '@whittle/tensor';
import { type DecomposeOptions, type Spectrum, breakEvenSpectrum, decompose, useRandomized } from './decompose.js';
import { type FactorDType, type FactorizableLayer, type WeightLookup, asMatrix, f32, lookupWeight, relativeSpectrum, transposed } from './layer.js';
import type { InputTransform } from './whiten.js';

/** A MatMul or Gemm whose weight is a constant 2-D initializer: y = x·W with W K×N. */
export interface LinearInfo {
  node: Node;
  /** W in the y = x·W orientation (K×N), regardless of transB. */
  w: Matrix;
  k: number;
  n: number;
  /** Activation input (A) and whether it is transposed (Gemm transA). */
  input: string;
  transA: boolean;
  transB: boolean;
  /** Element type of the stored weight; the factors are written in it. */
  dtype: FactorDType;
}

/** Whether a MatMul/Gemm reads its weight transposed (Gemm transB = 1). */
export function readsTransposed(node: Node): boolean {
  return node.opType === 'Gemm' && getInt(node, 'transB', 0) !== 0;
}

/** Recognize a factorizable MatMul/Gemm (weights looked up with `lookup`), or say why not. */
export function linearInfo(lookup: WeightLookup, node: Node): LinearInfo | { skip: string } {
  const wName = node.inputs[1];
  const w = lookupWeight(lookup, wName);
  if (!w) return { skip: 'weight (input B) is not a float32 or float16 initializer' };
  if (w.rank !== 2) return { skip: `weight has rank ${w.rank}, expected 2` };
  const a = node.inputs[0]!;
  if (lookup(a)) return { skip: 'input A is an initializer (constant product)' };
  const transA = node.opType === 'Gemm' && getInt(node, 'transA', 0) !== 0;
  const transB = node.opType === 'Gemm' && getInt(node, 'transB', 0) !== 0;
  const [r, c] = [w.shape[0]!, w.shape[1]!];
  const stored = asMatrix(w, r, c);
  const wm = transB ? matrix(c, r, transposed(stored)) : stored;
  return { node, w: wm, k: wm.rows, n: wm.cols, input: a, transA, transB, dtype: w.dtype as FactorDType };
}

/**
 * Prepare the SVD factorization of a linear layer: W ≈ P·Q with P K×r, Q r×N (√s on both
 * sides), optionally in the space of an input transform (activation-aware). MatMul becomes
 * MatMul(x, P) → MatMul(·, Q); Gemm becomes Gemm(A, P; transA, alpha) → Gemm(·, Q, C; beta),
 * each factor stored transposed when the original had transB = 1. Before opset 11 Gemm's C is
 * required, so the first Gemm then reads a one-element zero C (with `broadcast = 1` before
 * opset 7); the second keeps the original C.
 */
export function prepareLinear(
  info: LinearInfo,
  label: string,
  dopts: Omit<DecomposeOptions, 'maxRank'>,
  transform?: { kind: 'whiten' | 'asvd'; t: InputTransform },
  opset = 21,
  gemmReader = info.node.opType === 'Gemm',
): FactorizableLayer {
  const { k, n, node } = info;
  const target = transform ? transform.t.apply(info.w) : info.w;
  const breakEven = Math.floor((k * n) / (k + n));
  const o = { ...dopts, maxRank: Math.max(1, Math.min(k, n, breakEven + 1)) };
  // energy out of reach below break-even: the spectrum for the report, no SVD (the layer stays
  // dense; should it be built anyway, the exact SVD is computed then)
  const early = breakEvenSpectrum(target, o);
  // exact path: energies from the smaller Gram matrix now, the r leading singular pairs when built
  // (a truncated SVD to the accuracy the truncation needs; no full Jacobi SVD)
  const gram = !early && !useRandomized(target, o) ? singularSubspaces(target) : undefined;
  const gramTotal = gram ? frobeniusNorm(target) ** 2 : 0;
  let computed = early || gram ? undefined : decompose(target, o);
  /** The SVD truncated at `rank` or beyond. */
  const spectrum = (rank: number): Spectrum => {
    if (computed) return computed;
    if (!gram) return (computed = decompose(target, { ...o, method: 'exact' }));
    const r = Math.min(rank, gram.energies.length);
    const { u, v } = gram.leading(r, r);
    const vt = matrix(r, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) vt.data[j * n + i] = v.data[i * r + j]!;
    return { svd: { u, s: gram.energies.slice(0, r).map(Math.sqrt), vt }, total: gramTotal, randomized: false };
  };
  return {
    node,
    label,
    kind: 'svd',
    shape: `${k}x${n}`,
    randomized: early ? true : gram ? false : computed!.randomized,
    activationAware: transform?.kind ?? 'none',
    problem: {
      spectra: [early ? early.spectrum : gram ? Float64Array.from(gram.energies, (e) => (gramTotal > 0 ? e / gramTotal : 0)) : relativeSpectrum(computed!.svd.s, computed!.total)],
      maxRanks: [Math.min(k, n)],
      cost: (r) => r[0]! * (k + n),
      dense: k * n,
    },
    build(ranks, names) {
      const spec = spectrum(ranks[0]!);
      const { u, s, vt } = spec.svd;
      const r = Math.min(ranks[0]!, s.length);
      let p = matrix(k, r);
      const q = matrix(r, n);
      let kept = 0;
      for (let j = 0; j < r; j++) {
        const sq = Math.sqrt(s[j]!);
        kept += s[j]! * s[j]!;
        for (let i = 0; i < k; i++) p.data[i * r + j] = u.data[i * u.cols + j]! * sq;
        for (let i = 0; i < n; i++) q.data[j * n + i] = vt.data[j * vt.cols + i]! * sq;
      }
      if (transform) p = transform.t.undo(p);
      const base = node.name || node.outputs[0] || node.opType;
      const pName = names.value(`${base}.lowrank_u`);
      const qName = names.value(`${base}.lowrank_v`);
      const relativeError = Math.sqrt(Math.max(0, spec.total - kept) / (spec.total || 1));
      const tb = info.transB;
      const initializers: [string, ReturnType<typeof f32>][] = [
        [pName, tb ? f32(transposed(p), [r, k], info.dtype) : f32(p.data, [k, r], info.dtype)],
        [qName, tb ? f32(transposed(q), [n, r], info.dtype) : f32(q.data, [r, n], info.dtype)],
      ];
      // Gemm-7..10 require C (Gemm-1..6 also need broadcast = 1 to broadcast it): one zero C shared by the Gemm readers
      const zeroName = opset < 11 && gemmReader ? names.value(`${base}.lowrank_zero`) : '';
      if (zeroName) initializers.push([zeroName, f32(new Float64Array(1), [1], info.dtype)]);
      return {
        relativeError,
        initializers,
        emit(reader, nm) {
          const rb = reader.name || reader.outputs[0] || reader.opType;
          const mid = nm.value(`${rb}.lowrank_mid`);
          const x = reader.inputs[0]!;
          const out = reader.outputs[0]!;
          if (reader.opType === 'MatMul') {
            return [
              createNode('MatMul', [x, pName], [mid], {}, { name: nm.node(`${rb}_lowrank_u`) }),
              createNode('MatMul', [mid, qName], [out], {}, { name: nm.node(`${rb}_lowrank_v`) }),
            ];
          }
          const alpha = getFloat(reader, 'alpha', 1);
          const beta = getFloat(reader, 'beta', 1);
          const c = reader.inputs[2] ?? '';
          const first: Record<string, ReturnType<typeof attr.int>> = { transB: attr.int(tb ? 1 : 0) };
          if (getInt(reader, 'transA', 0) !== 0) first['transA'] = attr.int(1);
          if (alpha !== 1) first['alpha'] = attr.float(alpha);
          const second: Record<string, ReturnType<typeof attr.int>> = { transB: attr.int(tb ? 1 : 0) };
          if (c && beta !== 1) second['beta'] = attr.float(beta);
          if (opset < 7) {
            first['broadcast'] = attr.int(1);
            if (c) second['broadcast'] = attr.int(getInt(reader, 'broadcast', 0));
          }
          if (opset < 11 && !zeroName) throw new ArgumentError(`lowrank: Gemm '${rb}' at opset ${opset} needs a zero C input, but its weight was prepared without one (pass gemmReader = true)`);
          return [
            createNode('Gemm', opset < 11 ? [x, pName, zeroName] : [x, pName], [mid], first, { name: nm.node(`${rb}_lowrank_u`) }),
            createNode('Gemm', c ? [mid, qName, c] : [mid, qName], [out], second, { name: nm.node(`${rb}_lowrank_v`) }),
          ];
        },
      };
    },
  };
}
