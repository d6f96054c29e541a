/**
 * Writing quantized weights into a graph: DequantizeLinear (per-tensor, per-axis, blocked at
 * opset 21) feeding the consumer, or com.microsoft MatMulNBits for MatMul / Gemm weights.
 */
import type { Graph, Model, Node, NameGenerator } from '@whittle/graph';
import { createNode, isDefaultDomain, opsetVersion } from '@whittle/graph';
import { type DType, type Tensor, tensor } from '@whittle/tensor';
import { type QuantizedWeight, type WeightSite, blocksPerRow, nativeIndex, siteFloatType } from './weights.js';

/** Ops whose default-domain semantics changed after opset 13 in ways a version bump would alter. */
const BUMP_UNSAFE = new Set([
  'ReduceMax', 'ReduceMin', 'ReduceMean', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
  'ReduceLogSumExp', 'ReduceSumSquare', 'GridSample', 'DFT',
]);

/**
 * Make the model's default-domain opset at least `version` when that is legal (opset >= 13 and no
 * op whose meaning changed since). Returns whether the model now has it; bumps IR to >= 10.
 */
export function ensureOpset(model: Model, version: number): boolean {
  const v = opsetVersion(model) ?? 1;
  if (v >= version) return true;
  if (v < 13) return false;
  const unsafe = (g: Graph): boolean => g.nodes.some((n) => isDefaultDomain(n.domain) && BUMP_UNSAFE.has(n.opType));
  if (unsafe(model.graph)) return false;
  const imp = model.opsetImports.find((o) => isDefaultDomain(o.domain));
  if (imp) imp.version = version;
  else model.opsetImports.push({ domain: '', version });
  if (model.irVersion < 10) model.irVersion = 10;
  return true;
}

/** Add `domain` to the opset imports if missing. */
export function ensureDomain(model: Model, domain: string, version = 1): void {
  if (!model.opsetImports.some((o) => o.domain === domain)) model.opsetImports.push({ domain, version });
}

/** A cpu tensor. */
export function cpuTensor(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  if (dtype === 'float32') return tensor(Float32Array.from(values), shape, 'float32', { backend: 'cpu' });
  if (dtype === 'uint8') return tensor(Uint8Array.from(values), shape, 'uint8', { backend: 'cpu' });
  if (dtype === 'int8') return tensor(Int8Array.from(values), shape, 'int8', { backend: 'cpu' });
  if (dtype === 'int32') return tensor(Int32Array.from(values), shape, 'int32', { backend: 'cpu' });
  return tensor(Array.from(values), shape, dtype, { backend: 'cpu' });
}

/** Container dtype for a grid of `bits` bits. */
export function containerDType(bits: number, symmetric: boolean, allow4: boolean): DType {
  if (bits <= 4 && allow4) return symmetric ? 'int4' : 'uint4';
  return symmetric ? 'int8' : 'uint8';
}

/**
 * Initializers and attributes of a DequantizeLinear holding `q` in `site`'s native layout. The
 * scales have the weight's float type, so a float16 weight dequantizes to float16 (opset >= 19).
 */
function dequantizeParts(g: Graph, site: Pick<WeightSite, 'name' | 'shape' | 'rowAxis' | 'blockAxis' | 'rows' | 'cols' | 'tensor'>, q: QuantizedWeight, names: NameGenerator, allow4: boolean): { inputs: string[]; attrs: Record<string, { type: 'int'; value: number }> } {
  const dtype = containerDType(q.bits, q.symmetric, allow4);
  const half = 2 ** (q.bits - 1);
  // codes straight into the container's typed array (8-bit) in the native layout
  const n = q.rows * q.cols;
  const codes = dtype === 'int8' ? new Int8Array(n) : dtype === 'uint8' ? new Uint8Array(n) : new Int16Array(n);
  const shift = q.symmetric ? half : 0;
  const { rows, cols } = q;
  if (site.rowAxis === 0) for (let i = 0; i < n; i++) codes[i] = q.codes[i]! - shift;
  else for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) codes[nativeIndex(site, r, c)] = q.codes[r * cols + c]! - shift;
  const base = site.name;
  const qName = names.value(`${base}_quantized`);
  const sName = names.value(`${base}_scale`);
  g.initializers.set(qName, codes instanceof Int16Array ? cpuTensor(codes, site.shape, dtype) : tensor(codes, site.shape, dtype, { backend: 'cpu' }));
  const attrs: Record<string, { type: 'int'; value: number }> = {};
  let scaleShape: number[];
  let scales: ArrayLike<number> = q.scales;
  let zps: number[] = Array.from(q.zeroPoints);
  if (q.granularity === 'per-tensor') scaleShape = [];
  else if (q.granularity === 'per-channel') {
    scaleShape = [q.rows];
    attrs.axis = { type: 'int', value: site.rowAxis };
  } else {
    const nb = blocksPerRow(q);
    scaleShape = site.shape.map((d, i) => (i === site.blockAxis ? nb : d));
    attrs.axis = { type: 'int', value: site.blockAxis };
    attrs.block_size = { type: 'int', value: q.blockSize };
    if (site.rowAxis === 1) {
      // native scale layout [nb, rows]
      const s = new Float32Array(nb * q.rows);
      const z = new Array<number>(nb * q.rows);
      for (let r = 0; r < q.rows; r++) {
        for (let b = 0; b < nb; b++) {
          s[b * q.rows + r] = q.scales[r * nb + b]!;
          z[b * q.rows + r] = q.zeroPoints[r * nb + b]!;
        }
      }
      scales = s;
      zps = z;
    }
  }
  g.initializers.set(sName, cpuTensor(scales, scaleShape, siteFloatType(site)));
  const inputs = [qName, sName];
  if (!q.symmetric) {
    const zName = names.value(`${base}_zero_point`);
    g.initializers.set(zName, cpuTensor(zps, scaleShape, dtype));
    inputs.push(zName);
  }
  return { inputs, attrs };
}

/**
 * Replace `site`'s weight with `q` stored as integers + DequantizeLinear feeding the consumer.
 * `allow4` says whether 4-bit containers may be used (opset 21). Returns the DQ node.
 */
export function emitDequantizeLinear(g: Graph, site: WeightSite, q: QuantizedWeight, names: NameGenerator, allow4: boolean): Node {
  const { inputs, attrs } = dequantizeParts(g, site, q, names, allow4);
  const out = names.value(`${site.name}_dequantized`);
  const dq = createNode('DequantizeLinear', inputs, [out], attrs, { name: names.node(`${site.name}_DequantizeLinear`) });
  const at = g.nodes.indexOf(site.node);
  g.nodes.splice(at, 0, dq);
  site.node.inputs[site.input] = out;
  return dq;
}

/**
 * Replace the float initializer `site.name` of `site.graph` by `q` + a DequantizeLinear whose
 * output keeps the initializer's name, so every reader (several nodes, nested subgraphs, other
 * op types) reads the one dequantized tensor. The DQ node goes first in the graph.
 */
export function emitDequantizeWeight(site: WeightSite, q: QuantizedWeight, names: NameGenerator, allow4: boolean): Node {
  const g = site.graph;
  const { inputs, attrs } = dequantizeParts(g, site, q, names, allow4);
  const dq = createNode('DequantizeLinear', inputs, [site.name], attrs, { name: names.node(`${site.name}_DequantizeLinear`) });
  replaceInitializerByNodes(g, site.name, [dq]);
  return dq;
}

/** Drop initializer `name` of `g` (and its graph-input entry) and put `nodes` computing it first. */
export function replaceInitializerByNodes(g: Graph, name: string, nodes: Node[]): void {
  g.initializers.delete(name);
  const i = g.inputs.findIndex((v) => v.name === name);
  if (i >= 0) g.inputs.splice(i, 1);
  g.nodes.unshift(...nodes);
}

/** Whether MatMulNBits can take this site (MatMul, or plain Gemm A·B + C; block granularity). */
export function matMulNBitsEligible(site: WeightSite, q: Pick<QuantizedWeight, 'granularity' | 'blockSize'>): boolean {
  if (q.granularity !== 'block' || q.blockSize < 16 || (q.blockSize & (q.blockSize - 1)) !== 0) return false;
  const n = site.node;
  if (n.opType === 'MatMul') return site.input === 1;
  if (n.opType !== 'Gemm' || site.input !== 1) return false;
  const get = (k: string, d: number): number => {
    const a = n.attributes.get(k);
    return a && (a.type === 'int' || a.type === 'float') ? a.value : d;
  };
  return get('transA', 0) === 0 && get('alpha', 1) === 1 && get('beta', 1) === 1;
}

/**
 * MatMulNBits tensors of a quantized weight (canonical rows = the N output columns): `B`
 * [N, blocks, blockSize·bits/8] with codes packed low bits first (padding codes are the block's
 * zero point) and `Z` [N, ceil(blocks·bits/8)] packed zero points. Rows are independent, so a
 * weight may be packed a slice of rows at a time and the pieces concatenated.
 */
export function packMatMulNBits(q: QuantizedWeight, containerBits: number): { B: Uint8Array; Z: Uint8Array } {
  if (q.packed && q.packed.container === containerBits) return { B: q.packed.B, Z: q.packed.zeroPoints };
  const N = q.rows;
  const K = q.cols;
  const bs = q.blockSize;
  const nb = blocksPerRow(q);
  const blob = (bs * containerBits) / 8;
  const perByte = 8 / containerBits;
  const mask = 2 ** containerBits - 1;
  const B = new Uint8Array(N * nb * blob);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const zp = q.zeroPoints[n * nb + b]!;
      const out = (n * nb + b) * blob;
      const src = n * K + b * bs;
      const full = Math.min(bs, K - b * bs); // codes present in this block; the rest pad with zp
      if (containerBits === 4) {
        for (let j = 0; j < bs; j += 2) {
          const lo = j < full ? q.codes[src + j]! : zp;
          const hi = j + 1 < full ? q.codes[src + j + 1]! : zp;
          B[out + (j >> 1)] = (lo & 15) | ((hi & 15) << 4);
        }
        continue;
      }
      for (let j = 0; j < bs; j++) {
        const code = j < full ? q.codes[src + j]! : zp;
        const byte = out + Math.floor(j / perByte);
        B[byte] = B[byte]! | ((code & mask) << ((j % perByte) * containerBits));
      }
    }
  }
  const zpBytes = Math.ceil((nb * containerBits) / 8);
  const Z = new Uint8Array(N * zpBytes);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const byte = n * zpBytes + Math.floor(b / perByte);
      Z[byte] = Z[byte]! | ((q.zeroPoints[n * nb + b]! & mask) << ((b % perByte) * containerBits));
    }
  }
  return { B, Z };
}

/**
 * Code width MatMulNBits stores a `bits`-bit grid in: 2 and 4 as they are, 3 in 4, 5-8 in 8
 * (onnxruntime implements bits 2, 4 and 8).
 */
export function nbitsContainer(bits: number): 2 | 4 | 8 {
  return bits === 2 ? 2 : bits <= 4 ? 4 : 8;
}

/** A com.microsoft MatMulNBits node reading `input` with packed weights [B, scales, zero points]. */
export function matMulNBitsNode(input: string, weights: readonly [string, string, string], output: string, a: { K: number; N: number; bits: number; blockSize: number }, name: string): Node {
  return createNode(
    'MatMulNBits',
    [input, ...weights],
    [output],
    { K: { type: 'int', value: a.K }, N: { type: 'int', value: a.N }, bits: { type: 'int', value: a.bits }, block_size: { type: 'int', value: a.blockSize } },
    { name, domain: 'com.microsoft' },
  );
}

/**
 * Replace a MatMul (or Gemm, rewritten to MatMulNBits + Add) by com.microsoft MatMulNBits with
 * `q` packed in `containerBits`-bit codes (>= q.bits). The packed tensors go into `site.graph`
 * (the weight's graph); with `packed` (names of tensors made for another reader of the same
 * weight) they are shared instead of packed again. The caller adds the opset import.
 */
export function emitMatMulNBits(g: Graph, site: WeightSite, q: QuantizedWeight, names: NameGenerator, containerBits: number, packed?: [string, string, string]): Node[] {
  const N = q.rows;
  const K = q.cols;
  const bs = q.blockSize;
  let weights = packed;
  if (!weights) {
    const nb = blocksPerRow(q);
    const blob = (bs * containerBits) / 8;
    const zpBytes = Math.ceil((nb * containerBits) / 8);
    const { B, Z } = packMatMulNBits(q, containerBits);
    const base = site.name;
    weights = [names.value(`${base}_nbits`), names.value(`${base}_scales`), names.value(`${base}_zero_points`)];
    const owner = site.graph ?? g;
    owner.initializers.set(weights[0], tensor(B, [N, nb, blob], 'uint8', { backend: 'cpu' }));
    // float16 scales for a float16 weight: MatMulNBits' T1 (A, scales, output) is then float16
    owner.initializers.set(weights[1], cpuTensor(q.scales, [N * nb], siteFloatType(site)));
    owner.initializers.set(weights[2], tensor(Z, [N * zpBytes], 'uint8', { backend: 'cpu' }));
  }
  const node = site.node;
  const hasBias = node.opType === 'Gemm' && !!node.inputs[2];
  const out = hasBias ? names.value(`${node.outputs[0]}_matmul`) : node.outputs[0]!;
  const mm = matMulNBitsNode(node.inputs[0]!, weights, out, { K, N, bits: containerBits, blockSize: bs }, names.node(`${node.name || site.name}_MatMulNBits`));
  const replacement = [mm];
  if (hasBias) replacement.push(createNode('Add', [out, node.inputs[2]!], [node.outputs[0]!], {}, { name: names.node(`${node.name || site.name}_bias`) }));
  g.nodes.splice(g.nodes.indexOf(node), 1, ...replacement);
  return replacement;
}

/** Stored bytes of MatMulNBits tensors for `q` in `containerBits`-bit codes (`scaleBytes` per scale: 4 float32, 2 float16). */
export function matMulNBitsBytes(q: Pick<QuantizedWeight, 'rows' | 'cols' | 'blockSize' | 'granularity'>, containerBits: number, scaleBytes = 4): number {
  const nb = blocksPerRow(q);
  return q.rows * nb * ((q.blockSize * containerBits) / 8) + q.rows * nb * scaleBytes + q.rows * Math.ceil((nb * containerBits) / 8);
}
