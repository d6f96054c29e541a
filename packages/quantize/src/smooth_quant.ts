import { CalibrationDataError, PassDataError, cloneModel, collectActivations, createNode, defineOptions, definePass, getInt, NameGenerator } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { SkipLog } from './skips.js';
import { findModelWeightSites } from './weights.js';

/** Options of `smooth-quant`. */
export const smoothQuantOptions = defineOptions({
  alpha: { type: 'number', min: 0, max: 1, default: 0.5, description: 'migration strength: s_j = max|X_j|^alpha / max|W_j|^(1 − alpha)' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm'], description: 'op types whose activation outliers are migrated into the weights' },
  maxBatches: { type: 'number', integer: true, min: 1, default: 8, description: 'calibration batches used for the activation maxima' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left alone' },
});

/**
 * `smooth-quant` (Xiao et al., SmoothQuant): per input channel j of each MatMul/Gemm, divide the
 * activation by s_j and multiply the weight's row j by s_j — the float model computes the same
 * function, but activation outliers move into the weights where per-channel scales absorb them,
 * so a following static int8 quantization loses less. Inserts one Mul per layer (a constant
 * 1/s vector) in front of it.
 */
export const smoothQuantPass = definePass({
  specificationVersion: 'v1',
  name: 'smooth-quant',
  // the command quantizes statically right after (as onnxruntime and Intel Neural Compressor do):
  // SmoothQuant alone only rescales weights and activations
  cli: { group: 'quantize', command: 'smooth', then: 'quantize-static', description: 'SmoothQuant (activation outliers migrated into the weights) followed by static int8 quantization with calibration' },
  description: 'SmoothQuant: migrate activation outliers into the weights with per-channel scales (function-preserving), before static int8 quantization.',
  optionsSchema: smoothQuantOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (!ctx.calibration) throw new CalibrationDataError('smooth-quant', 'smooth-quant: needs calibration data (ctx.calibration; --data on the command line) for activation maxima: none was given');
    const out = cloneModel(model);
    const g = out.graph;
    const skips = new SkipLog();
    findModelWeightSites(out, o.ops, { names: o.excludeNodes }, { subgraphs: false, subgraphReason: 'inside a subgraph: activation maxima are collected in the main graph only', skips });
    const sites = g.nodes.filter((n) => (n.domain === '' || n.domain === 'ai.onnx') && o.ops.includes(n.opType) && !o.excludeNodes.includes(n.name)).flatMap((n) => {
      const x = n.inputs[0]!;
      const w = g.initializers.get(n.inputs[1] ?? '');
      if (!x || g.initializers.has(x) || !w || w.dtype !== 'float32' || w.rank !== 2) return [];
      if (n.opType === 'Gemm' && getInt(n, 'transA', 0) !== 0) return [];
      const transB = n.opType === 'Gemm' && getInt(n, 'transB', 0) === 1;
      const K = transB ? w.shape[1]! : w.shape[0]!;
      return [{ node: n, x, w: n.inputs[1]!, transB, K }];
    });
    // activation maxima per input channel (the last axis of X)
    const xmax = new Map<string, Float64Array>(sites.map((s) => [s.x, new Float64Array(s.K)]));
    const batches = await collectActivations(
      model,
      [
        {
          names: [...xmax.keys()],
          consume(values) {
            for (const [name, m] of xmax) {
              const v = values.get(name)?.data;
              if (!v) continue;
              const K = m.length;
              for (let i = 0; i < v.length; i++) {
                const a = Math.abs(v[i]!);
                if (a > m[i % K]!) m[i % K] = a;
              }
            }
          },
        },
      ],
      ctx.calibration,
      { pass: 'smooth-quant', activationRuntime: ctx.activationRuntime, runtime: ctx.calibrationRuntime, backend: ctx.backend, signal: ctx.signal, maxBatches: o.maxBatches, logger: ctx.logger },
    );
    const names = new NameGenerator(g);
    const layers = [];
    for (const s of sites) {
      const w = g.initializers.get(s.w)!;
      const wv = Float32Array.from(w.dataSync() as Float32Array);
      const [R, C] = w.shape as [number, number];
      const wmax = new Float64Array(s.K);
      const at = (j: number, k: number): number => (s.transB ? k * C + j : j * C + k); // element (channel j, output k)
      const outs = s.transB ? R : C;
      for (let j = 0; j < s.K; j++) for (let k = 0; k < outs; k++) wmax[j] = Math.max(wmax[j]!, Math.abs(wv[at(j, k)]!));
      const xm = xmax.get(s.x)!;
      const scale = new Float32Array(s.K);
      for (let j = 0; j < s.K; j++) {
        const v = xm[j]! > 0 && wmax[j]! > 0 ? Math.pow(xm[j]!, o.alpha) / Math.pow(wmax[j]!, 1 - o.alpha) : 1;
        scale[j] = Math.min(1e4, Math.max(1e-4, v));
      }
      for (let j = 0; j < s.K; j++) for (let k = 0; k < outs; k++) wv[at(j, k)] = wv[at(j, k)]! * scale[j]!;
      const wName = names.value(`${s.w}_smoothed`);
      g.initializers.set(wName, tensor(wv, w.shape, 'float32', { backend: 'cpu' }));
      const inv = names.value(`${s.node.name || s.w}_smooth_inv`);
      g.initializers.set(inv, tensor(Float32Array.from(scale, (v) => 1 / v), [s.K], 'float32', { backend: 'cpu' }));
      const xs = names.value(`${s.x}_smoothed`);
      g.nodes.splice(g.nodes.indexOf(s.node), 0, createNode('Mul', [s.x, inv], [xs], {}, { name: names.node(`${s.node.name || 'node'}_smooth`) }));
      s.node.inputs[0] = xs;
      s.node.inputs[1] = wName;
      layers.push({ node: s.node.name, channels: s.K, minScale: Math.min(...scale), maxScale: Math.max(...scale) });
    }
    for (const s of sites) if (!g.nodes.some((n) => n.inputs.includes(s.w)) && !g.outputs.some((x) => x.name === s.w)) g.initializers.delete(s.w);
    return {
      model: out,
      report: { changed: layers.length > 0, summary: `smoothed ${layers.length} layers (alpha ${o.alpha}) over ${batches} calibration batches${skips.size ? `; ${skips.summary()}` : ''}`, stats: { layers: layers.length, batches, skipped: skips.size }, warnings: skips.warnings(), details: { layers, skipped: skips.items } },
    };
  },
});
