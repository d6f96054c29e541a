/**
 * Weight forms valid below opset 21, used when a model cannot be raised to it: com.microsoft
 * GatherBlockQuantized for 4-bit embedding tables, and int8 initializer → Cast → Mul by
 * per-channel scales for opsets without DequantizeLinear (< 10) or without per-axis scales.
 */
import { type NameGenerator, type Node, createNode } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor, replaceInitializerByNodes } from './emit.js';
import { type QuantizedWeight, type WeightSite, blocksPerRow, nativeIndex, siteFloatType } from './weights.js';

/** Whether com.microsoft GatherBlockQuantized (uint8 data, 4-bit packed) can hold `q` of `site`. */
export function gatherBlockEligible(site: WeightSite, q: Pick<QuantizedWeight, 'granularity' | 'blockSize' | 'bits' | 'cols'>): boolean {
  return site.node.opType === 'Gather' && site.input === 0 && q.granularity === 'block' && q.bits <= 4 && q.blockSize >= 16 && (q.blockSize & (q.blockSize - 1)) === 0 && q.cols % 2 === 0;
}

/** Stored bytes of the GatherBlockQuantized form (`scaleBytes` per scale: 4 float32, 2 float16). */
export function gatherBlockBytes(q: Pick<QuantizedWeight, 'rows' | 'cols' | 'blockSize' | 'granularity'>, scaleBytes = 4): number {
  const nb = blocksPerRow(q);
  return q.rows * (q.cols / 2) + q.rows * nb * scaleBytes + q.rows * Math.ceil(nb / 2);
}

/**
 * Pack `q` (canonical [V, D] = native table layout, 4-bit codes) for GatherBlockQuantized:
 * data uint8 [V, D/2] low nibble first, scales [V, blocks], zero points uint8 [V, ceil(blocks/2)].
 */
export function packGatherBlock(q: QuantizedWeight): { data: Uint8Array; zeroPoints: Uint8Array } {
  const { rows, cols } = q;
  // rows of whole 4-bit blocks: MatMulNBits' packed codes and zero points are these bytes
  if (q.packed?.container === 4 && cols % q.blockSize === 0) return { data: q.packed.B, zeroPoints: q.packed.zeroPoints };
  const nb = blocksPerRow(q);
  const data = new Uint8Array((rows * cols) / 2);
  for (let i = 0; i < rows * cols; i += 2) data[i >> 1] = (q.codes[i]! & 15) | ((q.codes[i + 1]! & 15) << 4);
  const zpCols = Math.ceil(nb / 2);
  const zeroPoints = new Uint8Array(rows * zpCols);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const at = r * zpCols + (b >> 1);
      zeroPoints[at] = zeroPoints[at]! | ((q.zeroPoints[r * nb + b]! & 15) << ((b & 1) * 4));
    }
  }
  return { data, zeroPoints };
}

/**
 * Replace the Gather `site.node` by com.microsoft GatherBlockQuantized reading `q` (packed once
 * per weight: pass `packed` from an earlier reader). The caller adds the opset import.
 */
export function emitGatherBlockQuantized(site: WeightSite, q: QuantizedWeight, names: NameGenerator, packed?: [string, string, string]): { node: Node; packed: [string, string, string] } {
  let weights = packed;
  if (!weights) {
    const { data, zeroPoints } = packGatherBlock(q);
    const nb = blocksPerRow(q);
    weights = [names.value(`${site.name}_q4`), names.value(`${site.name}_scales`), names.value(`${site.name}_zero_points`)];
    site.graph.initializers.set(weights[0], tensor(data, [q.rows, q.cols / 2], 'uint8', { backend: 'cpu' }));
    // the scales' type is the gathered rows' type: float16 for a float16 table
    site.graph.initializers.set(weights[1], cpuTensor(q.scales, [q.rows, nb], siteFloatType(site)));
    site.graph.initializers.set(weights[2], tensor(zeroPoints, [q.rows, Math.ceil(nb / 2)], 'uint8', { backend: 'cpu' }));
  }
  const n = site.node;
  const node = createNode(
    'GatherBlockQuantized',
    [weights[0], n.inputs[1]!, weights[1], weights[2]],
    [...n.outputs],
    { gather_axis: { type: 'int', value: 0 }, quantize_axis: { type: 'int', value: 1 }, block_size: { type: 'int', value: q.blockSize }, bits: { type: 'int', value: 4 } },
    { name: names.node(`${n.name || site.name}_GatherBlockQuantized`), domain: 'com.microsoft' },
  );
  site.nodeGraph.nodes.splice(site.nodeGraph.nodes.indexOf(n), 1, node);
  return { node, packed: weights };
}

/**
 * Replace the float initializer `site.name` by int8 codes (symmetric 8-bit `q`, per-channel or
 * per-tensor) → Cast to the weight's float type → Mul by the scales (of that type) shaped to
 * broadcast along the output-channel axis; the Mul output keeps the initializer's name. Valid at
 * every opset (no DequantizeLinear), float16 weights included.
 */
export function emitCastMul(site: WeightSite, q: QuantizedWeight, names: NameGenerator): Node[] {
  const g = site.graph;
  const half = 2 ** (q.bits - 1);
  const codes = new Int8Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) for (let c = 0; c < q.cols; c++) codes[nativeIndex(site, r, c)] = q.codes[r * q.cols + c]! - half;
  const qName = names.value(`${site.name}_quantized`);
  const sName = names.value(`${site.name}_scale`);
  const fName = names.value(`${site.name}_int8_float`);
  g.initializers.set(qName, tensor(codes, site.shape, 'int8', { backend: 'cpu' }));
  const scaleShape = q.granularity === 'per-tensor' ? [] : site.shape.map((d, i) => (i === site.rowAxis ? d : 1));
  const floatType = siteFloatType(site);
  g.initializers.set(sName, cpuTensor(q.scales, scaleShape, floatType));
  const nodes = [
    createNode('Cast', [qName], [fName], { to: { type: 'int', value: floatType === 'float16' ? 10 : 1 } }, { name: names.node(`${site.name}_Cast`) }),
    createNode('Mul', [fName, sName], [site.name], {}, { name: names.node(`${site.name}_scale_Mul`) }),
  ];
  replaceInitializerByNodes(g, site.name, nodes);
  return nodes;
}
