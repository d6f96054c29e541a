/**
 * Where quantizable weights live in a graph and how they are viewed as a matrix of
 * [rows = output channels, cols = reduction dimension], the layout every weight quantizer
 * here works in.
 */
import type { Graph, GraphScope, Model, Node } from '@whittle/graph';
import { graphScopes, isDefaultDomain, scopedName } from '@whittle/graph';
import type { SkipLog } from './skips.js';
import { type Tensor, float16ToFloat32Array } from '@whittle/tensor';
import { type GridSpec, type GroupParams, dequantizeValue, groupParams, roundEven } from './quant_math.js';

/** A float32 (or, for the passes that take them, float16) weight initializer read by a node. */
export interface WeightSite {
  node: Node;
  /** Graph holding the weight initializer (the node's graph or one enclosing it). */
  graph: Graph;
  /** Graph holding the node. */
  nodeGraph: Graph;
  /** Subgraph path of the node ('' in the main graph). */
  scope: string;
  /** Input slot of the weight. */
  input: number;
  name: string;
  tensor: Tensor;
  /** Native shape of the weight. */
  shape: number[];
  /** Axis of output channels (per-channel scales). */
  rowAxis: number;
  /** Axis blocks run along (2-D weights only; -1 when block-wise is not possible). */
  blockAxis: number;
  rows: number;
  cols: number;
}

function attrInt(n: Node, name: string, dflt: number): number {
  const a = n.attributes.get(name);
  return a && a.type === 'int' ? a.value : dflt;
}

/** Exclusions of {@link findWeightSites}. */
export interface SiteExclusions {
  names?: readonly string[];
  ops?: readonly string[];
}

/** Why a weight input that is no initializer was not taken. */
function rejectReason(name: string, graphs: readonly Graph[]): string {
  for (const g of graphs) {
    const prod = g.nodes.find((n) => n.outputs.includes(name));
    if (prod) return prod.opType === 'Constant' ? 'weight in a Constant node (run normalize first)' : `weight computed by a ${prod.opType} node, not an initializer`;
    if (g.inputs.some((i) => i.name === name)) return 'weight is a graph input, not an initializer';
  }
  return 'weight is not an initializer';
}

/** Float element types a weight site may have. */
export type WeightFloatType = 'float32' | 'float16';

/**
 * Weight sites of the given op types in one graph: MatMul (B [K, N]), Gemm (B, transB aware), Conv
 * (W [O, I, ...]), ConvTranspose (W [I, O/group, ...], rows = input channels) and Gather (embedding table [V, D], data input). Only initializers of
 * `g` itself, or of `ancestors` (enclosing graphs, innermost first) for a subgraph, whose element
 * type is in `floatTypes` (float32 unless the pass also takes float16). Rejected candidates are
 * recorded in `skips` with the reason.
 */
export function findWeightSites(g: Graph, ops: readonly string[], exclude: SiteExclusions = {}, scope: Pick<GraphScope, 'path'> = { path: '' }, ancestors: readonly Graph[] = [], skips?: SkipLog, floatTypes: readonly WeightFloatType[] = ['float32']): WeightSite[] {
  const sites: WeightSite[] = [];
  for (const node of g.nodes) {
    if (!isDefaultDomain(node.domain) || !ops.includes(node.opType)) continue;
    if (exclude.names?.includes(node.name) || exclude.ops?.includes(node.opType)) continue;
    const slot = node.opType === 'Gather' ? 0 : 1;
    const name = node.inputs[slot];
    if (!name) continue;
    const label = scopedName(scope, name);
    const owner = [g, ...ancestors].find((x) => x.initializers.has(name) || x.rawInitializers.has(name));
    const t = owner?.initializers.get(name);
    if (!owner || !t) {
      const why = owner ? 'weight stored as raw (external) data' : rejectReason(name, [g, ...ancestors]);
      // MatMul of two activations / Gather of computed data hold no weight: only Constant weights count
      if (owner || (node.opType !== 'MatMul' && node.opType !== 'Gather') || why.startsWith('weight in a Constant')) skips?.add(node.opType, label, why);
      continue;
    }
    if (!(floatTypes as readonly string[]).includes(t.dtype)) {
      // a float16 weight a float32-only pass refuses: weight-only RTN / HQQ take it
      const elsewhere = t.dtype === 'float16' ? '; quantize-weights and quantize-hqq take float16 weights' : '';
      skips?.add(node.opType, label, `${t.dtype} weight (only ${floatTypes.join(' and ')} weights are quantized${elsewhere})`);
      continue;
    }
    const shape = [...t.shape];
    let rowAxis: number;
    let blockAxis: number;
    if (node.opType === 'MatMul') {
      if (shape.length !== 2) {
        skips?.add(node.opType, label, `rank-${shape.length} MatMul weight (2-D only)`);
        continue;
      }
      rowAxis = 1;
      blockAxis = 0;
    } else if (node.opType === 'Gemm') {
      if (shape.length !== 2) continue;
      const tb = attrInt(node, 'transB', 0);
      rowAxis = tb ? 0 : 1;
      blockAxis = tb ? 1 : 0;
    } else if (node.opType === 'Conv' || node.opType === 'ConvTranspose') {
      if (shape.length < 3) continue;
      // ConvTranspose's weight is [C_in, C_out/group, k...]: its scales run along axis 0 (input
      // channels), each a contiguous row of the native layout, as fine-grained as output channels
      rowAxis = 0;
      blockAxis = -1;
    } else if (node.opType === 'Gather') {
      if (shape.length !== 2 || attrInt(node, 'axis', 0) !== 0) {
        skips?.add(node.opType, label, 'Gather table not 2-D on axis 0');
        continue;
      }
      rowAxis = 0;
      blockAxis = 1;
    } else continue;
    const rows = shape[rowAxis]!;
    const cols = t.size / rows;
    sites.push({ node, graph: owner, nodeGraph: g, scope: scope.path, input: slot, name, tensor: t, shape, rowAxis, blockAxis, rows, cols });
  }
  return sites;
}

/** Options of {@link findModelWeightSites}. */
export interface ModelSiteOptions {
  /** Look inside If/Loop/Scan subgraphs (default true). */
  subgraphs?: boolean;
  /** Why subgraph weights are skipped when `subgraphs` is false. */
  subgraphReason?: string;
  skips?: SkipLog;
  /** Element types taken (default float32 only; the weight-only passes also take float16). */
  floatTypes?: readonly WeightFloatType[];
}

/**
 * Weight sites of every graph of the model (main graph and, at any depth, If/Loop/Scan
 * subgraphs). With `subgraphs: false` the sites inside subgraphs are counted in `skips` instead.
 */
export function findModelWeightSites(model: Model, ops: readonly string[], exclude: SiteExclusions = {}, opts: ModelSiteOptions = {}): WeightSite[] {
  const sites: WeightSite[] = [];
  for (const s of graphScopes(model.graph)) {
    const ancestors: Graph[] = [];
    for (let p = s.parent; p; p = p.parent) ancestors.push(p.graph);
    if (s.path && opts.subgraphs === false) {
      for (const site of findWeightSites(s.graph, ops, exclude, s, ancestors, undefined, opts.floatTypes)) opts.skips?.add(site.node.opType, scopedName(s, site.name), opts.subgraphReason ?? 'inside a subgraph');
      continue;
    }
    sites.push(...findWeightSites(s.graph, ops, exclude, s, ancestors, opts.skips, opts.floatTypes));
  }
  return sites;
}

/** Element type of a site's weight: its scales (and any float the quantized form adds) are written in it. */
export function siteFloatType(site: Pick<WeightSite, 'tensor'>): WeightFloatType {
  return site.tensor.dtype === 'float16' ? 'float16' : 'float32';
}

/** Bytes of one float of the site's type (4 or 2): the size of each scale the quantized form stores. */
export function siteFloatBytes(site: Pick<WeightSite, 'tensor'>): number {
  return siteFloatType(site) === 'float16' ? 2 : 4;
}

/**
 * A site's weight values as float32 in the native layout. A float16 weight is decoded exactly
 * (every half is a float32), so it is quantized by the same arithmetic as a float32 weight of the
 * same values.
 */
export async function siteValues(site: Pick<WeightSite, 'tensor'>): Promise<Float32Array> {
  const d = await site.tensor.data();
  if (site.tensor.dtype === 'float16') return float16ToFloat32Array(d as Uint16Array);
  return d as Float32Array;
}

/**
 * Constant nodes (any graph) holding float32 tensors of >= 16 elements: weights not yet normalized.
 * Integer constants (an already-quantized weight) do not count: normalizing them does not give the
 * passes anything to compress.
 */
export function constantWeightNodes(model: Model): number {
  let n = 0;
  for (const s of graphScopes(model.graph)) {
    for (const node of s.graph.nodes) {
      if (node.opType !== 'Constant') continue;
      const v = node.attributes.get('value');
      if (v?.type !== 'tensor') continue;
      const t = v.value as { size?: number; dims?: readonly number[]; dtype?: string; dataType?: string };
      if ((t.dtype ?? t.dataType) !== 'float32') continue;
      const size = t.size ?? (t.dims ?? []).reduce((a, b) => a * b, 1);
      if (size >= 16) n++;
    }
  }
  return n;
}

/** Native index of canonical element (r, c) of a site. */
export function nativeIndex(site: Pick<WeightSite, 'rowAxis' | 'rows' | 'cols'>, r: number, c: number): number {
  if (site.rowAxis === 0) return r * site.cols + c;
  // 2-D [K, N] with rows on axis 1
  return c * site.rows + r;
}

/** The weight as a canonical row-major [rows, cols] Float64Array. */
export function canonical(site: Pick<WeightSite, 'rowAxis' | 'rows' | 'cols'>, values: Float32Array): Float64Array {
  const { rows, cols } = site;
  const out = new Float64Array(rows * cols);
  if (site.rowAxis === 0) {
    for (let i = 0; i < rows * cols; i++) out[i] = values[i]!;
    return out;
  }
  // [K, N] with rows on axis 1: walk the native array in order, scatter into rows
  const T = 32; // tiles keep both sides of the transpose in cache
  for (let c0 = 0; c0 < cols; c0 += T) {
    const c1 = Math.min(cols, c0 + T);
    for (let r0 = 0; r0 < rows; r0 += T) {
      const r1 = Math.min(rows, r0 + T);
      for (let c = c0; c < c1; c++) for (let r = r0; r < r1; r++) out[r * cols + c] = values[c * rows + r]!;
    }
  }
  return out;
}

/** Back from canonical [rows, cols] to the native layout. */
export function fromCanonical(site: Pick<WeightSite, 'rowAxis' | 'rows' | 'cols'>, m: ArrayLike<number>): Float32Array {
  const out = new Float32Array(site.rows * site.cols);
  for (let r = 0; r < site.rows; r++) for (let c = 0; c < site.cols; c++) out[nativeIndex(site, r, c)] = m[r * site.cols + c]!;
  return out;
}

/** Granularity of scales. */
export type Granularity = 'per-tensor' | 'per-channel' | 'block';

/**
 * A quantized weight in canonical layout: unsigned codes [rows, cols], one scale / zero point per
 * group. Groups: per-tensor 1; per-channel one per row; block `rows * nBlocks` (row-major).
 */
export interface QuantizedWeight {
  rows: number;
  cols: number;
  /** Grid bits (2..8); storage may use a wider container. */
  bits: number;
  symmetric: boolean;
  granularity: Granularity;
  /** Block size along cols (block granularity only). */
  blockSize: number;
  codes: Uint8Array;
  scales: Float32Array;
  /** Unsigned zero points, one per group. */
  zeroPoints: Uint8Array;
  /**
   * The same weight already packed as MatMulNBits tensors (set by the block-wise kernel path of
   * `quantize-weights`; `packMatMulNBits` returns these for their container).
   */
  packed?: PackedNBits;
}

/** MatMulNBits tensors of a block-wise weight: codes [rows, blocks, blockSize·container/8], packed zero points [rows, ceil(blocks·container/8)]. */
export interface PackedNBits {
  /** Bits per stored code: 4 (two a byte) or 8. */
  container: 4 | 8;
  B: Uint8Array;
  zeroPoints: Uint8Array;
}

/** Number of blocks per row. */
export function blocksPerRow(q: Pick<QuantizedWeight, 'granularity' | 'cols' | 'blockSize'>): number {
  return q.granularity === 'block' ? Math.ceil(q.cols / q.blockSize) : 1;
}

/** Group index of canonical element (r, c). */
export function groupOf(q: Pick<QuantizedWeight, 'granularity' | 'cols' | 'blockSize'>, r: number, c: number): number {
  if (q.granularity === 'per-tensor') return 0;
  if (q.granularity === 'per-channel') return r;
  return r * Math.ceil(q.cols / q.blockSize) + Math.floor(c / q.blockSize);
}

/** Dequantized canonical matrix. */
export function dequantizeWeight(q: QuantizedWeight): Float64Array {
  const out = new Float64Array(q.rows * q.cols);
  const nb = blocksPerRow(q);
  const seg = q.granularity === 'block' ? q.blockSize : q.cols;
  for (let r = 0; r < q.rows; r++) {
    for (let b = 0; b < nb; b++) {
      const g = q.granularity === 'per-tensor' ? 0 : q.granularity === 'per-channel' ? r : r * nb + b;
      const scale = q.scales[g]!;
      const zp = q.zeroPoints[g]!;
      const c1 = r * q.cols + Math.min(q.cols, (b + 1) * seg);
      for (let i = r * q.cols + b * seg; i < c1; i++) out[i] = (q.codes[i]! - zp) * scale;
    }
  }
  return out;
}

/** Options of {@link quantizeRtn}. */
export interface RtnSpec extends GridSpec {
  granularity: Granularity;
  blockSize: number;
}

/**
 * Round-to-nearest quantization of a canonical [rows, cols] matrix. Works group segment by group
 * segment (a whole row, or one block of a row) so each value is read twice from cache.
 */
export function quantizeRtn(w: Float64Array, rows: number, cols: number, spec: RtnSpec): QuantizedWeight {
  const nb = spec.granularity === 'block' ? Math.ceil(cols / spec.blockSize) : 1;
  const groups = spec.granularity === 'per-tensor' ? 1 : spec.granularity === 'per-channel' ? rows : rows * nb;
  const seg = spec.granularity === 'block' ? spec.blockSize : cols;
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(groups);
  const zeroPoints = new Uint8Array(groups);
  const max = 2 ** spec.bits - 1;
  let whole: GroupParams | undefined;
  if (spec.granularity === 'per-tensor') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < rows * cols; i++) {
      const v = w[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    whole = groupParams(lo, hi, spec);
    scales[0] = whole.scale;
    zeroPoints[0] = whole.zeroPoint;
  }
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let b = 0; b < nb; b++) {
      const c0 = base + b * seg;
      const c1 = base + Math.min(cols, (b + 1) * seg);
      let p = whole;
      if (!p) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = c0; i < c1; i++) {
          const v = w[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        p = groupParams(lo, hi, spec);
        const g = spec.granularity === 'per-channel' ? r : r * nb + b;
        scales[g] = p.scale;
        zeroPoints[g] = p.zeroPoint;
      }
      const { scale, zeroPoint } = p;
      for (let i = c0; i < c1; i++) {
        const q = roundEven(w[i]! / scale) + zeroPoint;
        codes[i] = q < 0 ? 0 : q > max ? max : q;
      }
    }
  }
  return { rows, cols, bits: spec.bits, symmetric: spec.symmetric, granularity: spec.granularity, blockSize: spec.blockSize, codes, scales, zeroPoints };
}

/** Bytes of the initializers of every graph of the model (main graph and subgraphs). */
export function modelInitializerBytes(model: Model): number {
  return graphScopes(model.graph).reduce((n, s) => n + initializerBytes(s.graph), 0);
}

/** Stored bytes of `size` elements of `dtype`. */
export function tensorBytes(dtype: string, size: number): number {
  return Math.ceil((size * bitsPerElement(dtype)) / 8);
}

/** Bytes of the initializers of one graph (not its subgraphs). */
export function initializerBytes(g: Graph): number {
  let n = 0;
  for (const t of g.initializers.values()) n += Math.ceil((t.size * bitsPerElement(t.dtype)) / 8);
  for (const t of g.rawInitializers.values()) n += t.rawData?.length ?? 0;
  return n;
}

function bitsPerElement(d: string): number {
  switch (d) {
    case 'float32': case 'int32': return 32;
    case 'int64': return 64;
    case 'float16': return 16;
    case 'int4': case 'uint4': return 4;
    case 'int2': case 'uint2': return 2;
    default: return 8;
  }
}
