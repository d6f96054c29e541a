import { type AttributeValue, type Node, attr, createNode, getInt, getInts, getString, tensorValues } from '@whittle/graph';
import { type Matrix, leadingLeftSingular, matrix, singularSubspaces } from '@whittle/tensor';
import { type DecomposeOptions, decompose, energyOf } from './decompose.js';
import { type FactorDType, type FactorizableLayer, type WeightLookup, f32, lookupWeight, relativeSpectrum } from './layer.js';

/** A Conv (groups = 1) with a constant weight [N, C, ...kernel] (1-D, 2-D or 3-D). */
export interface ConvInfo {
  node: Node;
  w: Float64Array;
  /** Element type of the stored weight; the factors are written in it. */
  dtype: FactorDType;
  n: number;
  c: number;
  /** Spatial kernel size per dimension ([k] for a 1-D conv, [kh, kw] for a 2-D conv). */
  kernel: number[];
  /** Product of the kernel dimensions. */
  k2: number;
  autoPad: string;
}

/** Recognize a factorizable Conv (weights looked up with `lookup`), or say why not. */
export function convInfo(lookup: WeightLookup, node: Node): ConvInfo | { skip: string } {
  const w = lookupWeight(lookup, node.inputs[1]);
  if (!w) return { skip: 'weight is not a float32 or float16 initializer' };
  if (w.rank < 3) return { skip: `weight has rank ${w.rank}; a Conv weight is [N, C, ...kernel] (rank >= 3)` };
  if (getInt(node, 'group', 1) !== 1) return { skip: `group = ${getInt(node, 'group', 1)}; only group = 1 is factorized` };
  const [n, c, ...kernel] = w.shape as number[];
  return {
    node,
    w: tensorValues(w),
    dtype: w.dtype as FactorDType,
    n: n!, c: c!, kernel, k2: kernel.reduce((a, b) => a * b, 1),
    autoPad: getString(node, 'auto_pad', 'NOTSET'),
  };
}

/** A pointwise (all-ones kernel) conv of `dims` spatial dimensions. */
function pointwise(dims: number): Record<string, AttributeValue> {
  return { kernel_shape: attr.ints(Array.from({ length: dims }, () => 1)) };
}

/**
 * Leading `r` left singular vectors of `a` from the Gram eigendecomposition: Tucker factors only
 * need the leading subspace (the core is the projection onto it and its error is measured
 * exactly), so a full SVD per mode and HOOI sweep is not needed.
 */
function leadingLeft(a: Matrix, r: number): Matrix {
  return leadingLeftSingular(a, r).u;
}

/** W ×₀ Aᵀ ×₁ Bᵀ for A N×p (or identity), B C×q (or identity): result [p, q, ...kernel]. */
function project(ci: ConvInfo, a: Matrix | null, b: Matrix | null): { data: Float64Array; p: number; q: number } {
  const { n, c, k2, w } = ci;
  const q = b ? b.cols : c;
  // mode 1 first: T[n, j, s] = Σ_c W[n, c, s] B[c, j]
  let t = w;
  if (b) {
    t = new Float64Array(n * q * k2);
    const bd = b.data;
    if (k2 === 1) {
      // pointwise: T = W·B row by row, contiguous inner loop over B's row
      for (let nn = 0; nn < n; nn++) for (let cc = 0; cc < c; cc++) {
        const f = w[nn * c + cc]!;
        if (f === 0) continue;
        const src = cc * q;
        const dst = nn * q;
        for (let j = 0; j < q; j++) t[dst + j] = t[dst + j]! + f * bd[src + j]!;
      }
    } else for (let nn = 0; nn < n; nn++) for (let cc = 0; cc < c; cc++) {
      const src = (nn * c + cc) * k2;
      for (let j = 0; j < q; j++) {
        const f = bd[cc * q + j]!;
        if (f === 0) continue;
        const dst = (nn * q + j) * k2;
        for (let s = 0; s < k2; s++) t[dst + s] = t[dst + s]! + f * w[src + s]!;
      }
    }
  }
  if (!a) return { data: t, p: n, q };
  const p = a.cols;
  const out = new Float64Array(p * q * k2);
  const row = q * k2;
  const ad = a.data;
  for (let nn = 0; nn < n; nn++) for (let o = 0; o < p; o++) {
    const f = ad[nn * p + o]!;
    if (f === 0) continue;
    for (let s = 0; s < row; s++) out[o * row + s] = out[o * row + s]! + f * t[nn * row + s]!;
  }
  return { data: out, p, q };
}

/** Mode-1 unfolding (C × N·k2) of a [N, C, ...kernel] array (k2 kernel elements). */
function unfold1(w: Float64Array, n: number, c: number, k2: number): Matrix {
  const m = matrix(c, n * k2);
  for (let nn = 0; nn < n; nn++) for (let cc = 0; cc < c; cc++) for (let s = 0; s < k2; s++) m.data[cc * n * k2 + nn * k2 + s] = w[(nn * c + cc) * k2 + s]!;
  return m;
}

function copyAttrs(node: Node, skip: readonly string[]): Map<string, AttributeValue> {
  return new Map([...node.attributes].filter(([k]) => !skip.includes(k)));
}

/**
 * Tucker-2: W[N, C, ...kernel] ≈ core ×₀ U_out ×₁ U_in, i.e. a pointwise conv reducing C → r_in,
 * the core conv r_in → r_out with the original kernel (and the original strides, pads,
 * dilations, auto_pad) and a pointwise conv expanding r_out → N with the bias. Any number of
 * spatial dimensions (Conv1d [N, C, k], Conv2d, Conv3d): the pointwise convs commute with every
 * spatial attribute. Factors from the HOSVD (leading singular vectors of the mode-0/mode-1
 * unfoldings), optionally refined by `als` HOOI sweeps. A side at full rank is not emitted.
 * Spectra and factors come from the eigendecompositions of the unfoldings' smaller Gram matrices
 * (energies to absolute accuracy ~k·ε·σ₁², which is what energy-based rank selection uses); the
 * factors are computed only when the layer is built. `_dopts` is accepted for symmetry with the
 * other layer kinds (Tucker-2 never used the randomized SVD).
 */
export function prepareTucker2(ci: ConvInfo, label: string, _dopts: Omit<DecomposeOptions, 'maxRank'>, als: number): FactorizableLayer {
  const { n, c, k2, kernel, node } = ci;
  const ones = kernel.map(() => 1);
  const a0 = matrix(n, c * k2, ci.w);
  // rank selection needs only the energies of each unfolding (eigenvalues of the smaller Gram
  // matrix); the factors are computed in `build`, for the layers actually factorized
  let total = 0;
  for (let i = 0; i < ci.w.length; i++) total += ci.w[i]! * ci.w[i]!;
  // a pointwise conv's two unfoldings are transposes of each other: one spectrum serves both
  // (U_in = the right singular vectors of a0); the reductions are kept for `build` (each at most
  // the weight's size: the smaller Gram matrix of each unfolding)
  const sub0 = singularSubspaces(a0);
  const sub1 = k2 === 1 ? sub0 : singularSubspaces(unfold1(ci.w, n, c, k2));
  const e0 = sub0.energies;
  const e1 = sub1.energies;
  const spectrum = (e: Float64Array): Float64Array => Float64Array.from(e, (v) => (total > 0 ? v / total : 0));
  const cost = (r: readonly number[]): number => (r[0]! < c ? c * r[0]! : 0) + r[0]! * r[1]! * k2 + (r[1]! < n ? r[1]! * n : 0);
  return {
    node,
    label,
    kind: 'tucker2',
    shape: [n, c, ...kernel].join('x'),
    randomized: false,
    activationAware: 'none',
    problem: {
      spectra: [spectrum(e1), spectrum(e0)],
      maxRanks: [c, n],
      cost,
      dense: n * c * k2,
    },
    build(ranks, names) {
      const rIn = Math.min(ranks[0]!, c);
      const rOut = Math.min(ranks[1]!, n);
      let uIn: Matrix | null = null;
      let uOut: Matrix | null = null;
      if (k2 === 1) {
        // W = a0 (N×C): U_out its left, U_in its right singular vectors, from one Gram eigendecomposition
        const sv = sub0.leading(rOut < n ? rOut : 0, rIn < c ? rIn : 0);
        if (rIn < c) uIn = sv.v;
        if (rOut < n) uOut = sv.u;
      } else {
        if (rIn < c) uIn = sub1.leading(rIn, 0).u;
        if (rOut < n) uOut = sub0.leading(rOut, 0).u;
      }
      for (let it = 0; it < als; it++) {
        if (uIn) {
          const y = project(ci, uOut, null); // [rOut, C, k]
          uIn = leadingLeft(unfold1(y.data, y.p, c, k2), rIn);
        }
        if (uOut) {
          const z = project(ci, null, uIn); // [N, rIn, k]
          uOut = leadingLeft(matrix(n, z.q * k2, z.data), rOut);
        }
      }
      const core = project(ci, uOut, uIn);
      const coreEnergy = energyOf(core.data, core.data.length);
      const relativeError = Math.sqrt(Math.max(0, total - coreEnergy) / (total || 1));
      const base = node.name || node.outputs[0] || 'conv';
      const inits: [string, ReturnType<typeof f32>][] = [];
      let inName = '';
      if (uIn) {
        inName = names.value(`${base}.tucker_in`);
        const d = new Float64Array(rIn * c);
        for (let i = 0; i < rIn; i++) for (let cc = 0; cc < c; cc++) d[i * c + cc] = uIn.data[cc * rIn + i]!;
        inits.push([inName, f32(d, [rIn, c, ...ones], ci.dtype)]);
      }
      const coreName = names.value(`${base}.tucker_core`);
      inits.push([coreName, f32(core.data, [rOut, rIn, ...kernel], ci.dtype)]);
      let outName = '';
      if (uOut) {
        outName = names.value(`${base}.tucker_out`);
        inits.push([outName, f32(uOut.data, [n, rOut, ...ones], ci.dtype)]);
      }
      return {
        initializers: inits,
        relativeError,
        emit(reader, nm) {
          const rb = reader.name || reader.outputs[0] || 'conv';
          const bias = reader.inputs[2] ?? '';
          const out = reader.outputs[0]!;
          const nodes: Node[] = [];
          let cur = reader.inputs[0]!;
          if (inName) {
            const o = nm.value(`${rb}.tucker_in_out`);
            nodes.push(createNode('Conv', [cur, inName], [o], pointwise(kernel.length), { name: nm.node(`${rb}_tucker_in`) }));
            cur = o;
          }
          const coreOut = outName ? nm.value(`${rb}.tucker_core_out`) : out;
          const coreInputs = [cur, coreName];
          if (!outName && bias) coreInputs.push(bias);
          nodes.push(createNode('Conv', coreInputs, [coreOut], copyAttrs(reader, ['group']), { name: nm.node(`${rb}_tucker_core`) }));
          if (outName) {
            nodes.push(createNode('Conv', bias ? [coreOut, outName, bias] : [coreOut, outName], [out], pointwise(kernel.length), { name: nm.node(`${rb}_tucker_out`) }));
          }
          return nodes;
        },
      };
    },
  };
}

/**
 * Channel/spatial SVD (Jaderberg et al. 2014, scheme 2). 2-D: W[N, C, kh, kw] reshaped to
 * (C·kh) × (N·kw) and truncated to rank r gives a kh×1 conv C → r (vertical stride, pads and
 * dilation) followed by a 1×kw conv r → N (horizontal ones, with the bias). 1-D: W[N, C, k] as
 * (C·k) × N gives a k conv C → r with every spatial attribute of the original (auto_pad
 * included) followed by a pointwise conv r → N with the bias. 3-D convs: use Tucker-2.
 */
export function prepareSpatialSvd(ci: ConvInfo, label: string, dopts: Omit<DecomposeOptions, 'maxRank'>): FactorizableLayer | { skip: string } {
  const { n, c, node, w, kernel } = ci;
  if (kernel.length > 2) return { skip: `${kernel.length}-D conv; spatial SVD splits 1-D and 2-D kernels only (use method 'tucker2')` };
  const oneD = kernel.length === 1;
  if (!oneD && ci.autoPad !== 'NOTSET' && ci.autoPad !== 'VALID') return { skip: `auto_pad = ${ci.autoPad}; spatial SVD of a 2-D conv needs explicit pads (use method 'tucker2')` };
  const kh = kernel[0]!;
  const kw = oneD ? 1 : kernel[1]!;
  const rows = c * kh;
  const cols = n * kw;
  const m = matrix(rows, cols);
  for (let nn = 0; nn < n; nn++) for (let cc = 0; cc < c; cc++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    m.data[(cc * kh + i) * cols + nn * kw + j] = w[((nn * c + cc) * kh + i) * kw + j]!;
  }
  const dense = n * c * kh * kw;
  const breakEven = Math.floor(dense / (rows + cols));
  const spec = decompose(m, { ...dopts, maxRank: Math.max(1, Math.min(rows, cols, breakEven + 1)) });
  const { u, s, vt } = spec.svd;
  return {
    node,
    label,
    kind: 'spatial-svd',
    shape: [n, c, ...kernel].join('x'),
    randomized: spec.randomized,
    activationAware: 'none',
    problem: {
      spectra: [relativeSpectrum(s, spec.total)],
      maxRanks: [Math.min(rows, cols)],
      cost: (r) => r[0]! * (rows + cols),
      dense,
    },
    build(ranks, names) {
      const r = Math.min(ranks[0]!, s.length);
      const v1 = new Float64Array(r * c * kh);
      const h = new Float64Array(n * r * kw);
      for (let k = 0; k < r; k++) {
        const sq = Math.sqrt(s[k]!);
        for (let row = 0; row < rows; row++) v1[k * rows + row] = u.data[row * u.cols + k]! * sq; // [r, C, kh(, 1)]: (c, i) = row
        for (let nn = 0; nn < n; nn++) for (let j = 0; j < kw; j++) h[(nn * r + k) * kw + j] = vt.data[k * vt.cols + nn * kw + j]! * sq;
      }
      const relativeError = Math.sqrt(Math.max(0, spec.total - energyOf(s, r)) / (spec.total || 1));
      const base = node.name || node.outputs[0] || 'conv';
      const vName = names.value(`${base}.svd_vertical`);
      const hName = names.value(`${base}.svd_horizontal`);
      return {
        relativeError,
        initializers: [[vName, f32(v1, oneD ? [r, c, kh] : [r, c, kh, 1], ci.dtype)], [hName, f32(h, oneD ? [n, r, 1] : [n, r, 1, kw], ci.dtype)]],
        emit(reader, nm) {
          const rb = reader.name || reader.outputs[0] || 'conv';
          const mid = nm.value(`${rb}.svd_mid`);
          const bias = reader.inputs[2] ?? '';
          const out = bias ? [mid, hName, bias] : [mid, hName];
          if (oneD) {
            return [
              createNode('Conv', [reader.inputs[0]!, vName], [mid], copyAttrs(reader, ['group']), { name: nm.node(`${rb}_svd_vertical`) }),
              createNode('Conv', out, [reader.outputs[0]!], pointwise(1), { name: nm.node(`${rb}_svd_horizontal`) }),
            ];
          }
          const [sh, sw] = (getInts(reader, 'strides') ?? [1, 1]) as [number, number];
          const [dh, dw] = (getInts(reader, 'dilations') ?? [1, 1]) as [number, number];
          const pads = getString(reader, 'auto_pad', 'NOTSET') === 'VALID' ? [0, 0, 0, 0] : (getInts(reader, 'pads') ?? [0, 0, 0, 0]);
          const [pt, pl, pb, pr] = pads as [number, number, number, number];
          return [
            createNode('Conv', [reader.inputs[0]!, vName], [mid], {
              kernel_shape: attr.ints([kh, 1]), strides: attr.ints([sh, 1]), pads: attr.ints([pt, 0, pb, 0]), dilations: attr.ints([dh, 1]),
            }, { name: nm.node(`${rb}_svd_vertical`) }),
            createNode('Conv', out, [reader.outputs[0]!], {
              kernel_shape: attr.ints([1, kw]), strides: attr.ints([1, sw]), pads: attr.ints([0, pl, 0, pr]), dilations: attr.ints([1, dw]),
            }, { name: nm.node(`${rb}_svd_horizontal`) }),
          ];
        },
      };
    },
  };
}
