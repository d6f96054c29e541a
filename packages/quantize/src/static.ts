import { raiseOpset } from './opset_plan.js';
import {
  type Graph, type Model, type Node, NameGenerator, buildUseIndex, cloneModel, createNode, defineOptions, definePass,
  CalibrationDataError, PassOptionsError, eliminateDeadCode, graphScopes, isDefaultDomain, throwIfAborted,
} from '@whittle/graph';
import { type CalibrationMethod, collectStats, computeRange } from './calibrate.js';
import { cpuTensor, emitDequantizeLinear } from './emit.js';
import { type GroupParams, groupParams, roundEven } from './quant_math.js';
import { type QuantizedWeight, type WeightSite, canonical, constantWeightNodes, findModelWeightSites, findWeightSites, initializerBytes, quantizeRtn } from './weights.js';
import { SkipLog, nothingReason } from './skips.js';
import { actConstants } from './act_constants.js';
import { type QdqLayout, planQdqLayout } from './qdq_layout.js';

/** Options of `quantize-static`. */
export const staticOptions = defineOptions({
  calibrator: { type: 'string', enum: ['minmax', 'percentile', 'entropy', 'mse'], default: 'minmax', description: 'how activation ranges are chosen from the calibration data' },
  percentile: { type: 'number', min: 50, max: 100, default: 99.999, description: 'percentile of the "percentile" calibrator' },
  format: { type: 'string', enum: ['qdq', 'qoperator'], default: 'qdq', description: 'QuantizeLinear/DequantizeLinear pairs, or QLinearConv/QLinearMatMul with quantized weights' },
  perChannel: { type: 'boolean', default: true, description: 'per-output-channel weight scales' },
  activationType: { type: 'string', enum: ['uint8', 'int8'], default: 'uint8', description: 'activation integer type (uint8 asymmetric or int8 symmetric)' },
  weightType: { type: 'string', enum: ['int8', 'uint8'], default: 'int8', description: 'weight integer type (int8 symmetric or uint8 asymmetric)' },
  reduceRange: { type: 'boolean', default: false, description: "7-bit weights (as onnxruntime quantize_static's reduce_range): x86 CPUs with AVX2/AVX-512 but no VNNI add uint8×int8 products in int16 pairs that 8-bit weights can saturate, wrecking QLinearConv/QGemm outputs there" },
  ops: { type: 'string[]', default: ['Conv', 'MatMul', 'Gemm'], description: 'op types to quantize' },
  quantizeOutputs: { type: 'boolean', default: true, description: 'also quantize the outputs of quantized ops (as onnxruntime does)' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
  excludeOps: { type: 'string[]', default: [], description: 'op types left in float' },
  ranges: { type: 'object', description: 'precomputed activation ranges {name: [lo, hi]} (e.g. from rangesFromArrays); skips calibration' },
  maxBatches: { type: 'number', integer: true, min: 1, description: 'use at most this many calibration batches' },
});

interface Plan {
  nodes: Node[];
  activations: string[];
}

function plan(g: Graph, ops: readonly string[], excludeNodes: readonly string[], excludeOps: readonly string[], outputs: boolean | 'with-graph-outputs'): Plan {
  const inits = (n: string): boolean => g.initializers.has(n) || g.rawInitializers.has(n);
  const graphOut = new Set(g.outputs.map((o) => o.name));
  const nodes = g.nodes.filter((n) => isDefaultDomain(n.domain) && ops.includes(n.opType) && !excludeNodes.includes(n.name) && !excludeOps.includes(n.opType));
  const acts = new Set<string>();
  for (const n of nodes) {
    const float = n.opType === 'Conv' || n.opType === 'Gemm' ? [0] : [0, 1];
    for (const i of float) {
      const x = n.inputs[i];
      if (x && !inits(x)) acts.add(x);
    }
    if (outputs && n.outputs[0] && (outputs === 'with-graph-outputs' || !graphOut.has(n.outputs[0]))) acts.add(n.outputs[0]);
  }
  return { nodes, activations: [...acts] };
}

/**
 * Given activation ranges, checked: each a finite [lo, hi] with lo <= hi, named by a value of the
 * graph (a NaN bound wrote a model that outputs NaN; an unknown name quantized nothing, silently).
 */
function checkedRanges(given: Record<string, unknown>, model: Model): Record<string, [number, number]> {
  const names = new Set(graphScopes(model.graph).flatMap((s) => [...s.graph.inputs.map((i) => i.name), ...s.graph.nodes.flatMap((n) => n.outputs)]));
  const out: Record<string, [number, number]> = {};
  for (const [name, r] of Object.entries(given)) {
    const bad = (why: string): never => {
      throw new PassOptionsError('quantize-static', `pass 'quantize-static': option 'ranges' entry '${name}' ${why}`);
    };
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`must be [low, high] finite numbers, got ${Array.isArray(r) ? `[${r.map(String).join(', ')}]` : JSON.stringify(r)}`);
    const [lo, hi] = r as [number, number];
    if (lo > hi) bad(`has low ${lo} above high ${hi}`);
    if (!names.has(name)) bad('names no value of the graph (a graph input or a node output)');
    out[name] = [lo, hi];
  }
  return out;
}

/**
 * `quantize-static`: post-training static quantization. Activation ranges come from calibration
 * batches (ctx.calibration) run through Whittle's interpreter, or from `ranges`. Emits QDQ
 * (QuantizeLinear/DequantizeLinear around activations, DequantizeLinear on int8 weights, int32
 * biases with scale input_scale·weight_scale) or QOperator (QLinearConv / QLinearMatMul).
 */
export const quantizeStaticPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-static',
  cli: { group: 'quantize', command: 'static' },
  description: 'Static int8 post-training quantization with calibration (MinMax/Percentile/Entropy/MSE) as QDQ or QOperator.',
  optionsSchema: staticOptions,
  async run(model, ctx) {
    const o = ctx.options;
    // QuantizeLinear needs opset 10 and per-axis scales 13: raise older models first (same graph meaning)
    const raised = raiseOpset(model, o.perChannel ? 13 : 10);
    if (raised.opset < 10 || (o.perChannel && raised.opset < 13)) {
      const reason = `${raised.blockedBy}; static int8 needs opset ${o.perChannel ? '13 (per-channel scales; try --no-per-channel)' : '10'}`;
      return { model, report: { changed: false, summary: `nothing quantized: ${reason}`, details: { reason } } };
    }
    const out = raised.upgraded ? raised.model : cloneModel(model);
    const g = out.graph;
    const bytesBefore = initializerBytes(g);
    // QOperator nodes output integers: every one needs its output's range, a graph output's too
    // (a classifier's last Gemm), where QDQ leaves graph outputs float
    const p = plan(g, o.ops, o.excludeNodes, o.excludeOps, o.format === 'qoperator' ? 'with-graph-outputs' : o.quantizeOutputs);
    // QDQ: place the activation pairs where onnxruntime fuses them (Relu folded, no Q on a
    // MatMul/Gemm output that only float ops read)
    let layout: QdqLayout | undefined;
    if (o.format === 'qdq') {
      layout = planQdqLayout(g, p.nodes, o.quantizeOutputs);
      p.activations = layout.activations;
    }
    const skips = new SkipLog();
    const usable = findModelWeightSites(out, o.ops, { names: o.excludeNodes, ops: o.excludeOps }, { subgraphs: false, subgraphReason: 'inside a subgraph: calibration observes main-graph activations only', skips });
    // every weight of the planned nodes skipped (float16 weights, too small, …): said before
    // calibrating, which can take minutes, rather than after
    const allSkipped = p.nodes.length > 0 && skips.size > 0 && !usable.some((site) => p.nodes.includes(site.node));
    if (!p.nodes.length || allSkipped) {
      // nothing in the main graph to calibrate and quantize: say where the weights are instead
      const hint = skips.items.some((i) => i.reason.startsWith('inside a subgraph')) ? '; quantize-weights or quantize-dynamic quantize weights inside subgraphs' : '';
      const reason = nothingReason(allSkipped ? `0 of ${p.nodes.length} ${o.ops.join('/')} nodes have a weight to quantize` : `0 ${o.ops.join('/')} nodes in the main graph`, skips, constantWeightNodes(out)) + hint;
      return { model: cloneModel(model), report: { changed: false, summary: reason, warnings: skips.warnings(), details: { reason, skipped: skips.items } } };
    }
    let ranges: Record<string, [number, number]>;
    if (o.ranges) ranges = checkedRanges(o.ranges, model);
    else {
      if (!ctx.calibration) throw new CalibrationDataError('quantize-static', "quantize-static: needs calibration data (ctx.calibration; --data on the command line) or the 'ranges' option: none was given");
      const stats = await collectStats(out, p.activations, ctx.calibration, {
        pass: 'quantize-static',
        histogram: o.calibrator !== 'minmax',
        logger: ctx.logger,
        activationRuntime: ctx.activationRuntime,
        calibrationRuntime: ctx.calibrationRuntime,
        backend: ctx.backend,
        signal: ctx.signal,
        onBatch: (b) => ctx.onProgress(0.5 * Math.min(1, b / (o.maxBatches ?? 100)), `calibration batch ${b}`),
        ...(o.maxBatches !== undefined ? { maxBatches: o.maxBatches } : {}),
      });
      ranges = {};
      for (const [n, s] of stats) ranges[n] = computeRange(s, o.calibrator as CalibrationMethod, { percentile: o.percentile });
    }
    throwIfAborted(ctx.signal, 'quantize-static');
    const actSym = o.activationType === 'int8';
    const actParams = new Map<string, GroupParams>();
    for (const a of p.activations) {
      const r = ranges[a];
      if (!r) continue;
      // a folded Relu's output: asymmetric with the zero point at the type's minimum, which is
      // what makes onnxruntime drop the Relu (int8 too: zero point -128)
      const relu = layout?.reluOutputs.has(a) ?? false;
      actParams.set(a, groupParams(relu ? 0 : r[0], r[1], { bits: 8, symmetric: actSym && !relu }));
    }
    // data-movement outputs share their input's parameters (chains resolved to the first quantized tensor)
    for (const a of layout?.sameAs.keys() ?? []) {
      let src = a;
      for (let hop = 0; hop < 64 && layout!.sameAs.has(src); hop++) src = layout!.sameAs.get(src)!;
      const sp = actParams.get(src);
      if (sp) actParams.set(a, sp);
    }
    const names = new NameGenerator(g);
    const weightSym = o.weightType === 'int8';
    const sites = findWeightSites(g, o.ops, { names: o.excludeNodes, ops: o.excludeOps }).filter((s) => p.nodes.includes(s.node));
    const layers: Record<string, unknown>[] = [];
    const fusion: { fused: Record<string, number>; unfused: Record<string, string> } = { fused: {}, unfused: {} };
    const quantW = new Map<Node, { site: WeightSite; q: QuantizedWeight }>();
    for (const site of sites) {
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      const q = quantizeRtn(w, site.rows, site.cols, { bits: o.reduceRange ? 7 : 8, symmetric: weightSym, granularity: o.perChannel ? 'per-channel' : 'per-tensor', blockSize: 0 });
      quantW.set(site.node, { site, q });
    }
    let quantized = p.nodes.length;
    if (o.format === 'qoperator') {
      const { qoperator } = await import('./qoperator.js');
      quantized = qoperator(g, names, p.nodes, quantW, actParams, actSym, layers, skips);
    } else {
      // weights and int32 biases
      for (const { site, q } of quantW.values()) {
        const n = site.node;
        const wdq = emitDequantizeLinear(g, site, q, names, false);
        if (n.opType === 'Gemm') addZeroPoint(g, wdq, names);
        const inScale = actParams.get(n.inputs[0]!)?.scale;
        const biasName = n.opType === 'MatMul' ? undefined : n.inputs[2];
        const bias = biasName ? g.initializers.get(biasName) : undefined;
        let biasQuantized = false;
        if (biasName && bias && bias.dtype === 'float32' && inScale !== undefined && bias.size === q.rows) {
          const b = (await bias.data()) as Float32Array;
          const scales = Float32Array.from({ length: q.rows }, (_, r) => inScale * q.scales[q.granularity === 'per-tensor' ? 0 : r]!);
          const qb = Int32Array.from(b, (v, r) => Math.max(-2147483647, Math.min(2147483647, roundEven(v / (scales[r]! || 1)))));
          const qn = names.value(`${biasName}_quantized`);
          const sn = names.value(`${biasName}_scale`);
          g.initializers.set(qn, cpuTensor(qb, [q.rows], 'int32'));
          g.initializers.set(sn, cpuTensor(scales, [q.rows], 'float32'));
          const dqOut = names.value(`${biasName}_dequantized`);
          g.nodes.splice(g.nodes.indexOf(n), 0, createNode('DequantizeLinear', [qn, sn], [dqOut], { axis: { type: 'int', value: 0 } }, { name: names.node(`${biasName}_DequantizeLinear`) }));
          n.inputs[2] = dqOut;
          biasQuantized = true;
        }
        if (n.opType === 'Gemm') setGemmDefaults(n);
        const fused = layout ? fusedAs(n, layout, actParams, o.activationType, o.weightType) : undefined;
        if (fused && 'reason' in fused) fusion.unfused[n.name || site.name] = fused.reason;
        else if (fused) fusion.fused[fused.op] = (fusion.fused[fused.op] ?? 0) + 1;
        layers.push({ node: n.name, op: n.opType, weight: site.name, weightType: o.weightType, ...(o.reduceRange ? { weightBits: 7 } : {}), perChannel: o.perChannel, biasInt32: biasQuantized, inputScale: inScale, ...(fused ? { ortFusion: 'reason' in fused ? `none: ${fused.reason}` : fused.op } : {}) });
      }
      insertActivationQdq(g, names, actParams, actSym);
    }
    eliminateDeadCode(g);
    const bytesAfter = initializerBytes(g);
    const unfusedCount = Object.keys(fusion.unfused).length;
    const fusionNote = layout ? `; onnxruntime CPU fuses ${Object.entries(fusion.fused).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}${unfusedCount ? `, ${unfusedCount} stay DequantizeLinear → float op (see details.ortFusion)` : ''}` : '';
    return {
      model: out,
      report: {
        changed: true,
        summary: `static ${o.format} int8 quantization of ${quantized} nodes (${o.calibrator} calibration, ${actParams.size} activations)${skips.size ? `; ${skips.summary()}` : ''}; initializers ${bytesBefore} -> ${bytesAfter} bytes${fusionNote}`,
        warnings: [...skips.warnings(), ...Object.entries(fusion.unfused).map(([k, v]) => `${k}: onnxruntime will not fuse it (${v}); it runs DequantizeLinear then the float op, slower than float32`)],
        stats: { nodes: quantized, activations: actParams.size, skipped: skips.size, bytesBefore, bytesAfter, ratio: bytesAfter / Math.max(1, bytesBefore) },
        details: { skipped: skips.items, layers, ...(layout ? { ortFusion: fusion } : {}), activationRanges: Object.fromEntries([...actParams].map(([k, v]) => [k, { scale: v.scale, zeroPoint: v.zeroPoint, range: ranges[k] }])) },
      },
    };
  },
});

/** An explicit zero zero-point on a symmetric weight DequantizeLinear (onnxruntime's QGemm fusion needs b_zero_point). */
function addZeroPoint(g: Graph, dq: Node, names: NameGenerator): void {
  if (dq.inputs.length >= 3 && dq.inputs[2]) return;
  const scale = g.initializers.get(dq.inputs[1]!);
  const w = g.initializers.get(dq.inputs[0]!);
  if (!scale || !w || (w.dtype !== 'int8' && w.dtype !== 'uint8')) return;
  const z = names.value(`${dq.inputs[0]}_zero_point`);
  g.initializers.set(z, cpuTensor(w.dtype === 'int8' ? new Int8Array(scale.size) : new Uint8Array(scale.size), [...scale.shape], w.dtype));
  dq.inputs[2] = z;
}

/** Gemm with explicit alpha/beta = 1: onnxruntime's QGemm selector reads `beta` and skips a Gemm without it. */
function setGemmDefaults(n: Node): void {
  if (!n.attributes.has('alpha')) n.attributes.set('alpha', { type: 'float', value: 1 });
  if (!n.attributes.has('beta')) n.attributes.set('beta', { type: 'float', value: 1 });
}

/** The op onnxruntime's CPU QDQ transformer turns this node's group into, or why it will not. */
function fusedAs(n: Node, layout: QdqLayout, act: Map<string, GroupParams>, actType: string, weightType: string): { op: string } | { reason: string } {
  const why = layout.unfusable.get(n);
  if (why) return { reason: why };
  if (!act.has(n.inputs[0] ?? '')) return { reason: 'its input has no calibrated range' };
  if (actType === 'int8' && weightType !== 'int8') return { reason: 'int8 activations need int8 weights' };
  const out = layout.outputOf.get(n);
  if (n.opType === 'Conv') return out && act.has(out) ? { op: 'QLinearConv' } : { reason: 'its output has no calibrated range' };
  if (n.opType === 'Gemm') return { op: 'QGemm' };
  return out && act.has(out) ? { op: 'QLinearMatMul' } : { op: 'MatMulIntegerToFloat' };
}

/** Insert QuantizeLinear → DequantizeLinear after each activation; consumers read the DQ output. */
export function insertActivationQdq(g: Graph, names: NameGenerator, params: Map<string, GroupParams>, signed: boolean): void {
  const idx = buildUseIndex(g);
  for (const [a, p] of params) {
    const { sName, zName } = actConstants(g, names, a, p, signed);
    const qOut = names.value(`${a}_quantized`);
    const dqOut = names.value(`${a}_dequantized`);
    const q = createNode('QuantizeLinear', [a, sName, zName], [qOut], {}, { name: names.node(`${a}_QuantizeLinear`) });
    const dq = createNode('DequantizeLinear', [qOut, sName, zName], [dqOut], {}, { name: names.node(`${a}_DequantizeLinear`) });
    for (const u of idx.consumers.get(a) ?? []) if (u.input >= 0) u.node.inputs[u.input] = dqOut;
    const prod = idx.producers.get(a);
    const at = prod ? g.nodes.indexOf(prod.node) + 1 : 0;
    g.nodes.splice(at, 0, q, dq);
  }
}

export type { Model };
