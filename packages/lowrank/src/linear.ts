import { type Node, attr, createNode, getFloat, getInt } from '@whittle/graph';
import { ArgumentError, type Matrix, matrix } from '@whittle/tensor';
import { type DecomposeOptions, decompose } from './decompose.js';
import { type FactorizableLayer, type WeightLookup, asMatrix, f32, lookupWeight, relativeSpectrum, transposed } from './layer.js';
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
}

/** Whether a MatMul/Gemm reads its weight transposed (Gemm transB = 1). */
export function readsTransposed(node: Node): boolean {
  return node.opType === 'Gemm' && getInt(node, 'transB', 0) !== 0;
}

/** Recognize a factorizable MatMul/Gemm (weights looked up with `lookup`), or say why not. */
export function linearInfo(lookup: WeightLookup, node: Node): LinearInfo | { skip: string } {
  const wName = node.inputs[1];
  const w = lookupWeight(lookup, wName);
  if (!w) return { skip: 'weight (input B) is not a float32 initializer' };
  if (w.rank !== 2) return { skip: `weight has rank ${w.rank}, expected 2` };
  const a = node.inputs[0]!;
  if (lookup(a)) return { skip: 'input A is an initializer (constant product)' };
  const transA = node.opType === 'Gemm' && getInt(node, 'transA', 0) !== 0;
  const transB = node.opType === 'Gemm' && getInt(node, 'transB', 0) !== 0;
  const [r, c] = [w.shape[0]!, w.shape[1]!];
  const stored = asMatrix(w, r, c);
  const wm = transB ? matrix(c, r, transposed(stored)) : stored;
  return { node, w: wm, k: wm.rows, n: wm.cols, input: a, transA, transB };
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
  const spec = decompose(target, { ...dopts, maxRank: Math.max(1, Math.min(k, n, breakEven + 1)) });
  const { u, s, vt } = spec.svd;
  const kk = s.length;
  return {
    node,
    label,
    kind: 'svd',
    shape: `${k}x${n}`,
    randomized: spec.randomized,
    activationAware: transform?.kind ?? 'none',
    problem: {
      spectra: [relativeSpectrum(s, spec.total)],
      maxRanks: [Math.min(k, n)],
      cost: (r) => r[0]! * (k + n),
      dense: k * n,
    },
    build(ranks, names) {
      const r = Math.min(ranks[0]!, kk);
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
        [pName, tb ? f32(transposed(p), [r, k]) : f32(p.data, [k, r])],
        [qName, tb ? f32(transposed(q), [n, r]) : f32(q.data, [r, n])],
      ];
      // Gemm-7..10 require C (Gemm-1..6 also need broadcast = 1 to broadcast it): one zero C shared by the Gemm readers
      const zeroName = opset < 11 && gemmReader ? names.value(`${base}.lowrank_zero`) : '';
      if (zeroName) initializers.push([zeroName, f32(new Float64Array(1), [1])]);
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
