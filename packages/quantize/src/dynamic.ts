import { NameGenerator, cloneModel, createNode, defineOptions, definePass, eliminateDeadCode, throwIfAborted } from '@whittle/graph';
import { cpuTensor } from './emit.js';
import { canonical, findWeightSites, initializerBytes, quantizeRtn } from './weights.js';

/** Options of `quantize-dynamic`. */
export const dynamicOptions = defineOptions({
  weightType: { type: 'string', enum: ['int8', 'uint8'], default: 'int8', description: 'weight type (int8 symmetric or uint8 asymmetric); ConvInteger always uses uint8 weights' },
  perChannel: { type: 'boolean', default: false, description: 'per-output-channel weight scales (MatMul/Gemm only)' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv'], description: 'op types to quantize' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
  excludeOps: { type: 'string[]', default: [], description: 'op types left in float' },
});

/**
 * `quantize-dynamic`: int8 weights, activations quantized at run time as onnxruntime's
 * quantize_dynamic does: DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast → Mul by
 * input_scale·weight_scale → Add bias.
 */
export const quantizeDynamicPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-dynamic',
  description: 'Dynamic int8 quantization: DynamicQuantizeLinear + MatMulInteger/ConvInteger with rescaling, as onnxruntime quantize_dynamic.',
  optionsSchema: dynamicOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const out = cloneModel(model);
    const g = out.graph;
    const bytesBefore = initializerBytes(g);
    const names = new NameGenerator(g);
    const sites = findWeightSites(g, o.ops, { names: o.excludeNodes, ops: o.excludeOps });
    const layers: Record<string, unknown>[] = [];
    const dq = new Map<string, [string, string, string]>();
    for (const [i, site] of sites.entries()) {
      throwIfAborted(ctx.signal, 'quantize-dynamic');
      const n = site.node;
      const get = (k: string, d: number): number => {
        const a = n.attributes.get(k);
        return a && (a.type === 'int' || a.type === 'float') ? a.value : d;
      };
      if (n.opType === 'Gemm' && (get('transA', 0) !== 0 || get('alpha', 1) !== 1 || get('beta', 1) !== 1)) continue;
      const conv = n.opType === 'Conv';
      // ORT's ConvInteger takes uint8 weights with a per-tensor zero point
      const sym = conv ? false : o.weightType === 'int8';
      const perChannel = !conv && o.perChannel;
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      const q = quantizeRtn(w, site.rows, site.cols, { bits: 8, symmetric: sym, granularity: perChannel ? 'per-channel' : 'per-tensor', blockSize: 0 });
      const half = sym ? 128 : 0;
      const wType = sym ? 'int8' : 'uint8';
      const x = n.inputs[0]!;
      let xq = dq.get(x);
      const newNodes = [];
      if (!xq) {
        xq = [names.value(`${x}_quantized`), names.value(`${x}_scale`), names.value(`${x}_zero_point`)];
        dq.set(x, xq);
        newNodes.push(createNode('DynamicQuantizeLinear', [x], xq, {}, { name: names.node(`${x}_DynamicQuantizeLinear`) }));
      }
      const wq = names.value(`${site.name}_quantized`);
      const ws = names.value(`${site.name}_scale`);
      const wz = names.value(`${site.name}_zero_point`);
      const zp = Array.from(q.zeroPoints, (z) => z - half);
      const y = n.outputs[0]!;
      const acc = names.value(`${y}_int32`);
      const accF = names.value(`${y}_int32_float`);
      const scale = names.value(`${y}_scale`);
      const scaled = names.value(`${y}_scaled`);
      let scaleShape: number[];
      if (conv) {
        g.initializers.set(wq, cpuTensor(Array.from(q.codes, (c) => c - half), site.shape, wType));
        g.initializers.set(wz, cpuTensor(zp, [], wType));
        newNodes.push(createNode('ConvInteger', [xq[0], wq, xq[2], wz], [acc], new Map([...n.attributes]), { name: names.node(`${n.name}_ConvInteger`) }));
        scaleShape = [];
      } else {
        const K = q.cols;
        const N = q.rows;
        const codes = new Array<number>(K * N);
        for (let r = 0; r < N; r++) for (let c = 0; c < K; c++) codes[c * N + r] = q.codes[r * K + c]! - half;
        g.initializers.set(wq, cpuTensor(codes, [K, N], wType));
        g.initializers.set(wz, cpuTensor(zp, perChannel ? [N] : [], wType));
        newNodes.push(createNode('MatMulInteger', [xq[0], wq, xq[2], wz], [acc], {}, { name: names.node(`${n.name}_MatMulInteger`) }));
        scaleShape = perChannel ? [N] : [];
      }
      g.initializers.set(ws, cpuTensor(q.scales, scaleShape, 'float32'));
      newNodes.push(createNode('Cast', [acc], [accF], { to: { type: 'int', value: 1 } }, { name: names.node(`${n.name}_Cast`) }));
      newNodes.push(createNode('Mul', [xq[1], ws], [scale], {}, { name: names.node(`${n.name}_scale`) }));
      const bias = conv || n.opType === 'Gemm' ? n.inputs[2] : undefined;
      newNodes.push(createNode('Mul', [accF, scale], [bias ? scaled : y], {}, { name: names.node(`${n.name}_rescale`) }));
      if (bias) {
        let b = bias;
        if (conv) {
          const t = g.initializers.get(bias);
          if (t) {
            b = names.value(`${bias}_reshaped`);
            g.initializers.set(b, cpuTensor((await t.data()) as Float32Array, [1, t.size, ...site.shape.slice(2).map(() => 1)], 'float32'));
          }
        }
        newNodes.push(createNode('Add', [scaled, b], [y], {}, { name: names.node(`${n.name}_bias`) }));
      }
      g.nodes.splice(g.nodes.indexOf(n), 1, ...newNodes);
      layers.push({ node: n.name, op: n.opType, emitted: conv ? 'ConvInteger' : 'MatMulInteger', weightType: wType, perChannel });
      ctx.onProgress((i + 1) / sites.length, n.name);
    }
    eliminateDeadCode(g);
    const bytesAfter = initializerBytes(g);
    return {
      model: out,
      report: {
        changed: layers.length > 0,
        summary: `dynamic int8 quantization of ${layers.length} nodes; initializers ${bytesBefore} -> ${bytesAfter} bytes`,
        stats: { nodes: layers.length, bytesBefore, bytesAfter, ratio: bytesAfter / Math.max(1, bytesBefore) },
        details: { layers },
      },
    };
  },
});
