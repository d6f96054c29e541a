/**
 * What quantized weights hold, for parameter counts and sparsity: a packed 4-bit weight stores
 * two weights a byte, and its scales and zero points are not weights of the model. A float model
 * and its quantized forms should report the same parameter count, and a pruned weight should
 * still count as zero after quantization (its code equals the zero point).
 */
import type { Tensor } from '@whittle/tensor';
import { getInt } from '../ir/attributes.js';
import { initializerSize, tensorValues } from '../ir/dtypes.js';
import { isDefaultDomain } from '../ir/graph.js';
import { graphScopes } from '../ir/scopes.js';
import type { Graph, Node, RawTensor } from '../ir/types.js';
import { constantTensor } from './constant_weights.js';
import { BNB4_TABLES, nbitsCode, nbitsLayout, nbitsZeroPoints, packedZeroPoints } from '../ir/packed_codes.js';

/** A stored weight read as quantized codes. */
export interface QuantizedWeight {
  /** The op that reads it (with `domain:` outside the default domain). */
  op: string;
  /** Weights it encodes: a packed MatMulNBits B [N, blocks, blob] counts K · N. */
  elements: number;
  /** Rank of the weight it encodes (2 for MatMulNBits and MatMulBnb4, whatever their storage). */
  rank: number;
  /**
   * Encoded weights that are exactly zero (code equal to its zero point, or a zero scale); needs
   * the values of the weight and its scales / zero points (undefined when one is not loaded).
   */
  zeros(): number | undefined;
}

/** What {@link quantizedWeights} returns. */
export interface QuantizedWeights {
  /** Weight name → what it encodes. */
  weights: Map<string, QuantizedWeight>;
  /** Names of stored tensors read only as quantization parameters (scales, zero points, g_idx, absmax). */
  metadata: Set<string>;
}

type Stored = Tensor | RawTensor;

/** Ops that keep their data input's values in order, changing only the shape. */
const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);
type Lookup = (name: string | undefined) => Stored | undefined;

/** Weight input, scale, zero point and other quantization-parameter inputs of the ops with zero points along one axis. */
interface AxisOp {
  weight: number;
  scale?: number;
  zeroPoint?: number;
  /** Further quantization parameters (of the activations). */
  other: number[];
  /** Axis of per-channel parameters: the weight's last (columns), or 0 (output channels). */
  axis: (n: Node, rank: number) => number;
}

const LAST = (_n: Node, rank: number): number => rank - 1;
const FIRST = (): number => 0;
const AXIS_OPS: Record<string, AxisOp> = {
  DequantizeLinear: { weight: 0, scale: 1, zeroPoint: 2, other: [], axis: (n, rank) => ((getInt(n, 'axis', 1) % rank) + rank) % rank },
  MatMulInteger: { weight: 1, zeroPoint: 3, other: [2], axis: LAST },
  ConvInteger: { weight: 1, zeroPoint: 3, other: [2], axis: FIRST },
  QLinearMatMul: { weight: 3, scale: 4, zeroPoint: 5, other: [1, 2, 6, 7], axis: LAST },
  QLinearConv: { weight: 3, scale: 4, zeroPoint: 5, other: [1, 2, 6, 7], axis: FIRST },
  'com.microsoft:DynamicQuantizeMatMul': { weight: 1, scale: 2, zeroPoint: 3, other: [], axis: LAST },
  'com.microsoft:MatMulIntegerToFloat': { weight: 1, scale: 3, zeroPoint: 5, other: [2, 4], axis: LAST },
  'com.microsoft:QGemm': { weight: 3, scale: 4, zeroPoint: 5, other: [1, 2, 7, 8], axis: (n, rank) => (getInt(n, 'transB', 0) ? 0 : rank - 1) },
};

const values = (t: Stored | undefined): Float64Array | undefined => (t && 'storage' in t ? tensorValues(t) : undefined);
const bytesOf = (t: Stored | undefined): Uint8Array | undefined => (t && 'storage' in t && t.dtype === 'uint8' ? (t.dataSync() as Uint8Array) : undefined);

/** Zero-point / scale index of element i of a weight of `shape` quantized along `axis` (blocks of `block` when > 0). */
function paramIndex(shape: readonly number[], axis: number, block: number, paramSize: number): (i: number) => number {
  if (paramSize === 1) return () => 0;
  const d = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  if (block <= 0) return (i) => Math.floor(i / inner) % d;
  const blocks = Math.ceil(d / block);
  return (i) => (Math.floor(i / (d * inner)) * blocks + Math.floor((Math.floor(i / inner) % d) / block)) * inner + (i % inner);
}

function axisWeight(n: Node, key: string, spec: AxisOp, w: Stored, get: Lookup): QuantizedWeight {
  const shape = 'storage' in w ? w.shape : w.dims;
  return {
    op: key,
    elements: initializerSize(w),
    rank: shape.length,
    zeros() {
      const v = values(w);
      const zpName = spec.zeroPoint !== undefined ? n.inputs[spec.zeroPoint] : undefined;
      const zp = zpName ? values(get(zpName)) : new Float64Array(1);
      const scName = spec.scale !== undefined ? n.inputs[spec.scale] : undefined;
      const sc = scName ? values(get(scName)) : undefined;
      if (!v || !zp || (scName && !sc)) return undefined;
      const rank = shape.length;
      const block = key === 'DequantizeLinear' ? getInt(n, 'block_size', 0) : 0;
      const axis = rank ? spec.axis(n, rank) : 0;
      const zAt = paramIndex(shape, axis, block, zp.length);
      const sAt = sc ? paramIndex(shape, axis, block, sc.length) : undefined;
      let z = 0;
      for (let i = 0; i < v.length; i++) if (v[i] === zp[zAt(i)] || (sc && sc[sAt!(i)] === 0)) z++;
      return z;
    },
  };
}

function matMulNBitsWeight(n: Node, key: string, w: Stored, get: Lookup): QuantizedWeight {
  const l = nbitsLayout(getInt(n, 'K', 0), getInt(n, 'N', 0), getInt(n, 'bits', 4), getInt(n, 'block_size', 0));
  return {
    op: key,
    elements: l.K * l.N,
    rank: 2,
    zeros() {
      const codes = bytesOf(w);
      const sc = values(get(n.inputs[2]));
      const zpT = get(n.inputs[3]);
      const gIdx = n.inputs[4] ? values(get(n.inputs[4])) : undefined;
      if (!codes || !sc || (n.inputs[3] && !zpT) || (n.inputs[4] && !gIdx) || !l.blockSize) return undefined;
      const zpAt = nbitsZeroPoints(zpT ? (bytesOf(zpT) ?? values(zpT)) : undefined, l);
      let z = 0;
      for (let r = 0; r < l.N; r++) {
        for (let k = 0; k < l.K; k++) {
          const b = gIdx ? gIdx[k]! : Math.floor(k / l.blockSize);
          if (nbitsCode(codes, l, r, k) === zpAt(r, b) || sc[r * l.kBlocks + b] === 0) z++;
        }
      }
      return z;
    },
  };
}

function bnb4Weight(n: Node, key: string, w: Stored, get: Lookup): QuantizedWeight {
  const count = getInt(n, 'K', 0) * getInt(n, 'N', 0);
  const table = getInt(n, 'quant_type', 1) === 1 ? BNB4_TABLES.nf4 : BNB4_TABLES.fp4;
  return {
    op: key,
    elements: count,
    rank: 2,
    zeros() {
      const codes = bytesOf(w);
      const absmax = values(get(n.inputs[2]));
      const bs = getInt(n, 'block_size', 0);
      if (!codes || !absmax || !bs) return undefined;
      let z = 0;
      for (let i = 0; i < count; i++) {
        const byte = codes[i >> 1]!;
        if (table[i & 1 ? byte & 15 : byte >> 4] === 0 || absmax[Math.floor(i / bs)] === 0) z++;
      }
      return z;
    },
  };
}

function gatherBlockWeight(n: Node, key: string, w: Stored, get: Lookup): QuantizedWeight {
  const bits = getInt(n, 'bits', 4);
  const packed = ('storage' in w ? w.dtype : w.dataType) === 'uint8';
  const per = packed ? 8 / bits : 1;
  const stored = 'storage' in w ? w.shape : w.dims;
  const shape = stored.map((d, i) => (i === stored.length - 1 ? d * per : d));
  const elements = shape.reduce((a, b) => a * b, 1);
  return {
    op: key,
    elements,
    rank: shape.length,
    zeros() {
      const sc = values(get(n.inputs[2]));
      const zpT = n.inputs[3] ? get(n.inputs[3]) : undefined;
      if (!('storage' in w) || !sc || (n.inputs[3] && !zpT)) return undefined;
      const rank = shape.length;
      const axis = ((getInt(n, 'quantize_axis', 1) % rank) + rank) % rank;
      const bs = getInt(n, 'block_size', 128);
      const sAt = paramIndex(shape, axis, bs, sc.length);
      const mask = (1 << bits) - 1;
      const bytes = packed ? bytesOf(w) : undefined;
      const v = packed ? undefined : values(w);
      const code = (i: number): number => (bytes ? (bytes[Math.floor(i / per)]! >> ((i % per) * bits)) & mask : v![i]!);
      const nBlocks = Math.ceil(shape[axis]! / bs);
      let zpAt: (s: number) => number = () => (packed ? 1 << (bits - 1) : 0);
      if (zpT && packed) {
        const at = packedZeroPoints(bytesOf(zpT)!, bits, nBlocks);
        zpAt = (s) => at(Math.floor(s / nBlocks), s % nBlocks);
      } else if (zpT) {
        const z = values(zpT)!;
        zpAt = (s) => z[s]!;
      }
      let z = 0;
      for (let i = 0; i < elements; i++) {
        const s = sAt(i);
        if (code(i) === zpAt(s) || sc[s] === 0) z++;
      }
      return z;
    },
  };
}

/**
 * The quantized weights of a model (every graph, subgraphs included): stored tensors read as
 * codes by DequantizeLinear, MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv and
 * onnxruntime's MatMulNBits, MatMulBnb4, GatherBlockQuantized, DynamicQuantizeMatMul,
 * MatMulIntegerToFloat and QGemm, with the weights each encodes; and the stored tensors read only
 * as their quantization parameters.
 */
export function quantizedWeights(root: Graph): QuantizedWeights {
  const weights = new Map<string, QuantizedWeight>();
  const paramReads = new Set<string>();
  const otherReads = new Set<string>();
  const scopes = graphScopes(root);
  const stored = new Map<string, Stored>();
  for (const { graph } of scopes) {
    for (const [k, t] of graph.initializers) stored.set(k, t);
    for (const [k, t] of graph.rawInitializers) stored.set(k, t);
    for (const n of graph.nodes) {
      const t = n.opType === 'Constant' && isDefaultDomain(n.domain) && n.outputs[0] ? constantTensor(n) : undefined;
      if (t) stored.set(n.outputs[0]!, t);
    }
  }
  // values that only reshape a stored tensor (a tied LM head reads the embedding's scales through
  // a Reshape): the same values in the same order, so they resolve to the stored tensor
  const reshapedFrom = new Map<string, string>();
  for (const { graph } of scopes) {
    for (const n of graph.nodes) {
      if (RESHAPES.has(n.opType) && isDefaultDomain(n.domain) && n.inputs[0] && n.outputs[0]) reshapedFrom.set(n.outputs[0], n.inputs[0]);
    }
  }
  const source = (name: string): string => {
    let x = name;
    for (let i = 0; i < 16 && !stored.has(x) && reshapedFrom.has(x); i++) x = reshapedFrom.get(x)!;
    return x;
  };
  const get: Lookup = (name) => (name ? stored.get(source(name)) : undefined);
  const castParams = castDequantized(scopes.map((s) => s.graph), stored, source, weights);
  for (const { graph } of scopes) {
    for (const n of graph.nodes) {
      const key = isDefaultDomain(n.domain) ? n.opType : `${n.domain}:${n.opType}`;
      const params = new Set<number>(castParams.get(n));
      let weight: number | undefined;
      let make: ((w: Stored) => QuantizedWeight) | undefined;
      const axisOp = AXIS_OPS[key];
      if (axisOp) {
        weight = axisOp.weight;
        for (const i of [axisOp.scale, axisOp.zeroPoint, ...axisOp.other]) if (i !== undefined) params.add(i);
        make = (w) => axisWeight(n, key, axisOp, w, get);
      } else if (key === 'com.microsoft:MatMulNBits') {
        weight = 1;
        [2, 3, 4].forEach((i) => params.add(i));
        make = (w) => matMulNBitsWeight(n, key, w, get);
      } else if (key === 'com.microsoft:MatMulBnb4') {
        weight = 1;
        params.add(2);
        make = (w) => bnb4Weight(n, key, w, get);
      } else if (key === 'com.microsoft:GatherBlockQuantized') {
        weight = 0;
        [2, 3].forEach((i) => params.add(i));
        make = (w) => gatherBlockWeight(n, key, w, get);
      } else if (key === 'QuantizeLinear') {
        [1, 2].forEach((i) => params.add(i));
      }
      n.inputs.forEach((x, i) => {
        if (!x) return;
        // a reshape's data input is read as whatever its output is read as
        if (RESHAPES.has(n.opType) && isDefaultDomain(n.domain) && i === 0) return;
        if (params.has(i)) paramReads.add(source(x));
        else if (i !== weight) otherReads.add(source(x));
      });
      const w = weight !== undefined ? get(n.inputs[weight]) : undefined;
      if (w && make && !weights.has(source(n.inputs[weight!]!))) {
        const q = make(w);
        // read through a reshape: the count holds, the per-axis layout of the zero check may not
        const direct = stored.has(n.inputs[weight!]!) || key.endsWith('MatMulNBits') || key.endsWith('MatMulBnb4');
        weights.set(source(n.inputs[weight!]!), direct ? q : { ...q, zeros: () => undefined });
      }
    }
  }
  const metadata = new Set([...paramReads].filter((x) => stored.has(x) && !otherReads.has(x) && !weights.has(x)));
  return { weights, metadata };
}

const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4']);
const FLOAT_TYPES = new Set([1, 10, 16]);

/**
 * Integer weights the graph dequantizes itself: `[Gather →] Cast(to float) → [Sub zero point →]
 * Mul scale [→ Add offset]` (Whittle's int8 embedding rows, Transformers.js' dynamic-int8
 * convolutions). Adds
 * each table to `weights`; returns the inputs that read its scale and zero point (node → input
 * indices), through a Gather of per-row scales too.
 */
function castDequantized(graphs: readonly Graph[], stored: ReadonlyMap<string, Stored>, source: (x: string) => string, weights: Map<string, QuantizedWeight>): Map<Node, Set<number>> {
  const producer = new Map<string, Node>();
  const readers = new Map<string, Node[]>();
  for (const g of graphs) {
    for (const n of g.nodes) {
      for (const y of n.outputs) if (y) producer.set(y, n);
      for (const x of n.inputs) if (x) (readers.get(x) ?? readers.set(x, []).get(x)!).push(n);
    }
  }
  const params = new Map<Node, Set<number>>();
  const mark = (n: Node, i: number): void => {
    (params.get(n) ?? params.set(n, new Set()).get(n)!).add(i);
    // a per-row scale gathered with the rows: the Gather reads the scales as a parameter too
    const p = producer.get(n.inputs[i] ?? '');
    if (p?.opType === 'Gather' && isDefaultDomain(p.domain) && stored.has(source(p.inputs[0] ?? ''))) mark(p, 0);
  };
  const only = (x: string | undefined): Node | undefined => {
    const r = x ? readers.get(x) : undefined;
    return r?.length === 1 ? r[0] : undefined;
  };
  for (const g of graphs) {
    for (const c of g.nodes) {
      if (c.opType !== 'Cast' || !isDefaultDomain(c.domain) || !FLOAT_TYPES.has(getInt(c, 'to', 0))) continue;
      const from = producer.get(c.inputs[0] ?? '');
      const viaGather = from?.opType === 'Gather' && isDefaultDomain(from.domain);
      const name = source(viaGather ? from.inputs[0]! : c.inputs[0] ?? '');
      const t = stored.get(name);
      if (!t || !('storage' in t) || !INTEGER.has(t.dtype) || weights.has(name)) continue;
      let next = only(c.outputs[0]);
      let zp: { node: Node; input: number } | undefined;
      if (next?.opType === 'Sub' && next.inputs[0] === c.outputs[0]) {
        zp = { node: next, input: 1 };
        next = only(next.outputs[0]);
      }
      if (next?.opType !== 'Mul') continue;
      const scaleInput = next.inputs[0] === (zp ? zp.node.outputs[0] : c.outputs[0]) ? 1 : 0;
      mark(next, scaleInput);
      if (zp) mark(zp.node, zp.input);
      // q·scale + offset (offset = −zero point · scale, as Transformers.js writes its int8 convolutions)
      const add = only(next.outputs[0]);
      const offset = !zp && add?.opType === 'Add' && isDefaultDomain(add.domain) && stored.has(source(add.inputs[add.inputs[0] === next.outputs[0] ? 1 : 0] ?? ''));
      if (offset) mark(add, add.inputs[0] === next.outputs[0] ? 1 : 0);
      const zpValue = zp ? stored.get(source(zp.node.inputs[1] ?? '')) : undefined;
      const zpValues = zpValue && 'storage' in zpValue ? tensorValues(zpValue) : undefined;
      weights.set(name, {
        op: 'Cast',
        elements: t.size,
        rank: t.shape.length,
        zeros() {
          // a zero point per channel would need its axis, an offset its scale: not analysed
          if ((zp && zpValues?.length !== 1) || offset) return undefined;
          const z0 = zpValues?.[0] ?? 0;
          return tensorValues(t).reduce((a, v) => a + (v === z0 ? 1 : 0), 0);
        },
      });
    }
  }
  return params;
}
