/** QOperator emission for `quantize-static`: QLinearConv / QLinearMatMul with int8 weights. */
import { type Graph, type NameGenerator, type Node, createNode } from '@whittle/graph';
import { cpuTensor } from './emit.js';
import { type GroupParams, roundEven } from './quant_math.js';
import type { QuantizedWeight, WeightSite } from './weights.js';
import { actConstants } from './act_constants.js';
import type { SkipLog } from './skips.js';

/**
 * Replace each quantized node by QuantizeLinear → QLinear* → DequantizeLinear (float boundaries).
 * Nodes left float are added to `skips` with the reason; returns how many were replaced.
 */
export function qoperator(
  g: Graph,
  names: NameGenerator,
  nodes: readonly Node[],
  weights: Map<Node, { site: WeightSite; q: QuantizedWeight }>,
  acts: Map<string, GroupParams>,
  actSigned: boolean,
  layers: Record<string, unknown>[],
  skips: SkipLog,
): number {
  let replaced = 0;
  for (const n of nodes) {
    const w = weights.get(n);
    const x = n.inputs[0]!;
    const y = n.outputs[0]!;
    const xp = acts.get(x);
    const yp = acts.get(y);
    const skip = (reason: string): void => skips.add(n.opType, n.name || y, reason);
    if (!w) {
      skip('no initializer weight');
      continue;
    }
    if (!xp || !yp) {
      skip(`no calibrated range for its ${xp ? 'output' : 'input'}`);
      continue;
    }
    const get = (k: string, d: number): number => {
      const a = n.attributes.get(k);
      return a && (a.type === 'int' || a.type === 'float') ? a.value : d;
    };
    if (n.opType === 'Gemm' && (get('transA', 0) !== 0 || get('alpha', 1) !== 1 || get('beta', 1) !== 1)) {
      skip('Gemm with transA, alpha or beta has no QLinearMatMul form');
      continue;
    }
    replaced++;
    const { site, q } = w;
    const half = q.symmetric ? 2 ** (q.bits - 1) : 0;
    const wType = q.symmetric ? 'int8' : 'uint8';
    const perChannel = q.granularity === 'per-channel';
    const xs = actConstants(g, names, x, xp, actSigned);
    const ys = actConstants(g, names, y, yp, actSigned);
    const xq = names.value(`${x}_quantized`);
    const yq = names.value(`${y}_quantized`);
    const newNodes: Node[] = [createNode('QuantizeLinear', [x, xs.sName, xs.zName], [xq], {}, { name: names.node(`${n.name}_QuantizeLinear`) })];
    const wsName = names.value(`${site.name}_scale`);
    const wzName = names.value(`${site.name}_zero_point`);
    const wqName = names.value(`${site.name}_quantized`);
    const sShape = perChannel ? [q.rows] : [];
    g.initializers.set(wsName, cpuTensor(q.scales, sShape, 'float32'));
    g.initializers.set(wzName, cpuTensor(Array.from(q.zeroPoints, (z) => z - half), sShape, wType));
    if (n.opType === 'Conv') {
      // native [O, ...] is canonical
      g.initializers.set(wqName, cpuTensor(Array.from(q.codes, (c) => c - half), site.shape, wType));
      const inputs = [xq, xs.sName, xs.zName, wqName, wsName, wzName, ys.sName, ys.zName];
      const biasName = n.inputs[2];
      const bias = biasName ? g.initializers.get(biasName) : undefined;
      if (bias) {
        const b = bias.dataSync() as Float32Array;
        const qb = Int32Array.from(b, (v, r) => roundEven(v / (xp.scale * q.scales[perChannel ? r : 0]!)));
        const bn = names.value(`${biasName}_quantized`);
        g.initializers.set(bn, cpuTensor(qb, [q.rows], 'int32'));
        inputs.push(bn);
      }
      newNodes.push(createNode('QLinearConv', inputs, [yq], n.attributes, { name: names.node(`${n.name}_QLinearConv`) }));
      newNodes.push(createNode('DequantizeLinear', [yq, ys.sName, ys.zName], [y], {}, { name: names.node(`${n.name}_DequantizeLinear`) }));
    } else {
      // weight as [K, N]
      const K = q.cols;
      const N = q.rows;
      const codes = new Array<number>(K * N);
      for (let r = 0; r < N; r++) for (let c = 0; c < K; c++) codes[c * N + r] = q.codes[r * K + c]! - half;
      g.initializers.set(wqName, cpuTensor(codes, [K, N], wType));
      const hasBias = n.opType === 'Gemm' && !!n.inputs[2];
      const mmOut = hasBias ? names.value(`${y}_nobias`) : y;
      newNodes.push(createNode('QLinearMatMul', [xq, xs.sName, xs.zName, wqName, wsName, wzName, ys.sName, ys.zName], [yq], {}, { name: names.node(`${n.name}_QLinearMatMul`) }));
      newNodes.push(createNode('DequantizeLinear', [yq, ys.sName, ys.zName], [mmOut], {}, { name: names.node(`${n.name}_DequantizeLinear`) }));
      if (hasBias) newNodes.push(createNode('Add', [mmOut, n.inputs[2]!], [y], {}, { name: names.node(`${n.name}_bias`) }));
    }
    g.nodes.splice(g.nodes.indexOf(n), 1, ...newNodes);
    layers.push({ node: n.name, op: n.opType, emitted: n.opType === 'Conv' ? 'QLinearConv' : 'QLinearMatMul', perChannel, ...(q.bits < 8 ? { weightBits: q.bits } : {}) });
  }
  return replaced;
}
