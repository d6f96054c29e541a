import { type Graph, NameGenerator, cloneModel, opsetVersion, createNode, defineOptions, definePass, eliminateDeadCode, scopedName, throwIfAborted } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor } from './emit.js';
import { raiseOpset } from './opset_plan.js';
import { SkipLog, nothingReason } from './skips.js';
import { uniqueWeights } from './rtn.js';
import { type QuantizedWeight, type WeightSite, canonical, constantWeightNodes, findModelWeightSites, modelInitializerBytes, quantizeRtn } from './weights.js';
import { NODE_BYTES, readersOf, writeQuantizedWeights } from './write_weights.js';
import { emitGatherRows, gatherRowsBytes, gatherRowsEligible } from './gather_rows.js';

/** Options of `quantize-dynamic`. */
export const dynamicOptions = defineOptions({
  weightType: { type: 'string', enum: ['int8', 'uint8'], default: 'int8', description: 'weight type (int8 symmetric or uint8 asymmetric); ConvInteger always uses uint8 weights' },
  perChannel: { type: 'boolean', default: false, description: 'per-output-channel weight scales (MatMul/Gemm only)' },
  reduceRange: { type: 'boolean', default: false, description: "7-bit weights (as onnxruntime quantize_dynamic's reduce_range): x86 CPUs with AVX2/AVX-512 but no VNNI add uint8×int8 products in int16 pairs that 8-bit weights can saturate" },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Gather'], description: 'op types to quantize (Gather: embedding tables, and ConvTranspose, which has no integer kernel: weight-only int8 per row / input channel through DequantizeLinear)' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
  excludeOps: { type: 'string[]', default: [], description: 'op types left in float' },
});

/** Op types whose weights dynamic int8 stores weight-only (int8 + DequantizeLinear, no integer kernel). */
const WEIGHT_ONLY = new Set(['Gather', 'ConvTranspose']);

/** Integer weight tensors of one float weight, shared by all its readers. */
interface IntWeight {
  wq: string;
  ws: string;
  wz: string;
  q: QuantizedWeight;
}

function attr(n: WeightSite['node'], k: string, d: number): number {
  const a = n.attributes.get(k);
  return a && (a.type === 'int' || a.type === 'float') ? a.value : d;
}

/** Find an initializer by name in `g` or an enclosing graph of the site. */
function lookup(site: WeightSite, name: string): Graph | undefined {
  if (site.nodeGraph.initializers.has(name)) return site.nodeGraph;
  return site.graph.initializers.has(name) ? site.graph : undefined;
}

/**
 * `quantize-dynamic`: int8 weights, activations quantized at run time as onnxruntime's
 * quantize_dynamic does: DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast → Mul by
 * input_scale·weight_scale → Add bias. Works in If/Loop/Scan subgraphs; a weight read by several
 * nodes is quantized once; a weight whose integer form (plus its nodes) is not smaller is left.
 */
export const quantizeDynamicPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-dynamic',
  cli: { group: 'quantize', command: 'dynamic' },
  description: 'Dynamic int8 quantization: DynamicQuantizeLinear + MatMulInteger/ConvInteger with rescaling, as onnxruntime quantize_dynamic.',
  optionsSchema: dynamicOptions,
  async run(model, ctx) {
    const o = ctx.options;
    // DynamicQuantizeLinear needs opset 11 (MatMulInteger / ConvInteger 10)
    const from = opsetVersion(model) ?? 1;
    let raised = raiseOpset(cloneModel(model), 11);
    if (raised.opset < 11) {
      const reason = `0 weights quantized: DynamicQuantizeLinear needs opset 11 and ${raised.blockedBy}`;
      return { model: cloneModel(model), report: { changed: false, summary: reason, warnings: [reason], details: { reason } } };
    }
    let skips = new SkipLog();
    let sites = findModelWeightSites(raised.model, o.ops, { names: o.excludeNodes, ops: o.excludeOps }, { skips });
    // weight-only tables want per-row DequantizeLinear (opset 13; below it int8 + Cast + Mul)
    if (raised.opset < 13 && sites.some((s) => WEIGHT_ONLY.has(s.node.opType))) {
      const r13 = raiseOpset(cloneModel(model), 13);
      if (r13.opset >= 13) {
        raised = r13;
        skips = new SkipLog();
        sites = findModelWeightSites(raised.model, o.ops, { names: o.excludeNodes, ops: o.excludeOps }, { skips });
      }
    }
    const out = raised.model;
    const bytesBefore = modelInitializerBytes(out);
    const names = new NameGenerator(out.graph);
    const layers: Record<string, unknown>[] = [];
    const warnings: string[] = [];
    const dq = new Map<Graph, Map<string, [string, string, string]>>();
    const touched = new Set<Graph>();
    const groups = uniqueWeights(sites);
    // embedding tables and ConvTranspose weights (no integer kernel): weight-only int8 per row,
    // written after the integer ops (see below)
    const tables: { site: WeightSite; q: QuantizedWeight }[] = [];
    let gatheredRows = 0;
    // weight elements behind MatMulInteger/ConvInteger, and behind ConvInteger alone
    let intElems = 0;
    let convElems = 0;
    for (const [i, group] of groups.entries()) {
      throwIfAborted(ctx.signal, 'quantize-dynamic');
      const first = group[0]!;
      const weightOnly = group.filter((s) => WEIGHT_ONLY.has(s.node.opType));
      if (weightOnly.length) {
        // a table read by Gather (and maybe, tied, by an output projection) is stored once as int8
        // rows; every reader reads the dequantized table (the projection computes in float)
        const g0 = weightOnly[0]!;
        const q = quantizeRtn(canonical(g0, (await g0.tensor.data()) as Float32Array), g0.rows, g0.cols, { bits: 8, symmetric: true, granularity: 'per-channel', blockSize: 0 });
        // a table only Gathers read: gather int8 rows and dequantize just those (a DequantizeLinear
        // of the table would dequantize all of it on every run)
        if (weightOnly.length === group.length && gatherRowsEligible(weightOnly, q) && gatherRowsBytes(q) + weightOnly.length * 4 * NODE_BYTES < g0.tensor.size * 4) {
          emitGatherRows(weightOnly, q, names);
          gatheredRows++;
          const label = scopedName({ path: g0.scope }, g0.name);
          for (const s of weightOnly) layers.push({ node: scopedName({ path: s.scope }, s.node.name || s.name), op: 'Gather', weight: label, emitted: 'Gather (int8 rows) -> Cast -> Mul by Gather (row scales)', weightType: 'int8', perChannel: true, readers: weightOnly.length });
          continue;
        }
        for (const s of weightOnly) tables.push({ site: s, q });
        continue;
      }
      const label = scopedName({ path: first.scope }, first.name);
      const usable = group.filter((s) => {
        const n = s.node;
        if (n.opType === 'Gemm' && (attr(n, 'transA', 0) !== 0 || attr(n, 'alpha', 1) !== 1 || attr(n, 'beta', 1) !== 1)) {
          skips.add('Gemm', scopedName({ path: s.scope }, n.name || s.name), 'Gemm with transA/alpha/beta (MatMulInteger has none)');
          return false;
        }
        return true;
      });
      if (!usable.length) continue;
      const conv = first.node.opType === 'Conv';
      if (usable.some((s) => (s.node.opType === 'Conv') !== conv)) {
        skips.add(first.node.opType, label, 'weight read by both Conv and MatMul/Gemm');
        continue;
      }
      // ORT's ConvInteger takes uint8 weights with a per-tensor zero point
      const sym = conv ? false : o.weightType === 'int8';
      const perChannel = !conv && o.perChannel;
      const bits = o.reduceRange ? 7 : 8;
      const q = quantizeRtn(canonical(first, (await first.tensor.data()) as Float32Array), first.rows, first.cols, { bits, symmetric: sym, granularity: perChannel ? 'per-channel' : 'per-tensor', blockSize: 0 });
      const floatBytes = first.tensor.size * 4;
      // integer weight + scales, and per reader MatMulInteger/ConvInteger, Cast, two Muls
      const intBytes = first.tensor.size + (perChannel ? q.rows * 5 : 5) + usable.length * 4 * NODE_BYTES;
      const readers = readersOf(first.graph, first.name);
      const others = group.length !== usable.length || readers.outputs > 0 || readers.nodes.length !== group.length;
      if (intBytes >= floatBytes && !others) {
        skips.add(first.node.opType, label, `not smaller quantized (${floatBytes} float32 bytes -> ${intBytes} with its nodes)`);
        continue;
      }
      if (others) {
        skips.add(first.node.opType, label, 'weight also read by a node that stays float (both copies would be stored)');
        continue;
      }
      // symmetric codes are unsigned around 2^(bits-1): centred on 0 for int8 storage
      const half = sym ? 2 ** (bits - 1) : 0;
      const wType = sym ? 'int8' : 'uint8';
      intElems += first.tensor.size;
      if (conv) convElems += first.tensor.size;
      const owner = first.graph;
      const iw: IntWeight = { wq: names.value(`${first.name}_quantized`), ws: names.value(`${first.name}_scale`), wz: names.value(`${first.name}_zero_point`), q };
      const zp = Array.from(q.zeroPoints, (z) => z - half);
      if (conv) {
        owner.initializers.set(iw.wq, cpuTensor(Array.from(q.codes, (c) => c - half), first.shape, wType));
        owner.initializers.set(iw.wz, cpuTensor(zp, [], wType));
      } else {
        const K = q.cols;
        const N = q.rows;
        const codes = new Array<number>(K * N);
        for (let r = 0; r < N; r++) for (let c = 0; c < K; c++) codes[c * N + r] = q.codes[r * K + c]! - half;
        owner.initializers.set(iw.wq, cpuTensor(codes, [K, N], wType));
        owner.initializers.set(iw.wz, cpuTensor(zp, perChannel ? [N] : [], wType));
      }
      owner.initializers.set(iw.ws, cpuTensor(q.scales, perChannel ? [q.rows] : [], 'float32'));
      for (const site of usable) {
        const n = site.node;
        const g = site.nodeGraph;
        touched.add(g).add(owner);
        const x = n.inputs[0]!;
        let perGraph = dq.get(g);
        if (!perGraph) dq.set(g, (perGraph = new Map()));
        let xq = perGraph.get(x);
        const newNodes = [];
        if (!xq) {
          xq = [names.value(`${x}_quantized`), names.value(`${x}_scale`), names.value(`${x}_zero_point`)];
          perGraph.set(x, xq);
          newNodes.push(createNode('DynamicQuantizeLinear', [x], xq, {}, { name: names.node(`${x}_DynamicQuantizeLinear`) }));
        }
        const y = n.outputs[0]!;
        const acc = names.value(`${y}_int32`);
        const accF = names.value(`${y}_int32_float`);
        const scale = names.value(`${y}_scale`);
        const scaled = names.value(`${y}_scaled`);
        if (conv) newNodes.push(createNode('ConvInteger', [xq[0], iw.wq, xq[2], iw.wz], [acc], new Map([...n.attributes]), { name: names.node(`${n.name}_ConvInteger`) }));
        else newNodes.push(createNode('MatMulInteger', [xq[0], iw.wq, xq[2], iw.wz], [acc], {}, { name: names.node(`${n.name}_MatMulInteger`) }));
        newNodes.push(createNode('Cast', [acc], [accF], { to: { type: 'int', value: 1 } }, { name: names.node(`${n.name}_Cast`) }));
        newNodes.push(createNode('Mul', [xq[1], iw.ws], [scale], {}, { name: names.node(`${n.name}_scale`) }));
        const bias = conv || n.opType === 'Gemm' ? n.inputs[2] : undefined;
        newNodes.push(createNode('Mul', [accF, scale], [bias ? scaled : y], {}, { name: names.node(`${n.name}_rescale`) }));
        if (bias) {
          let b = bias;
          if (conv) {
            // Conv's bias [C] adds along the channel axis: [1, C, 1, ...] to broadcast against NC...
            const biasShape = [1, -1, ...site.shape.slice(2).map(() => 1)];
            const home = lookup(site, bias);
            const t = home?.initializers.get(bias);
            if (home && t) {
              b = names.value(`${bias}_reshaped`);
              home.initializers.set(b, tensor((await t.data()) as Float32Array, [1, t.size, ...site.shape.slice(2).map(() => 1)], 'float32', { backend: 'cpu' }));
            } else {
              b = names.value(`${bias}_reshaped`);
              const shapeName = names.value(`${bias}_bias_shape`);
              g.initializers.set(shapeName, tensor(BigInt64Array.from(biasShape.map(BigInt)), [biasShape.length], 'int64', { backend: 'cpu' }));
              newNodes.push(createNode('Reshape', [bias, shapeName], [b], {}, { name: names.node(`${n.name}_bias_Reshape`) }));
            }
          }
          newNodes.push(createNode('Add', [scaled, b], [y], {}, { name: names.node(`${n.name}_bias`) }));
        }
        g.nodes.splice(g.nodes.indexOf(n), 1, ...newNodes);
        layers.push({ node: scopedName({ path: site.scope }, n.name), op: n.opType, weight: label, emitted: conv ? 'ConvInteger' : 'MatMulInteger', weightType: wType, weightBits: bits, perChannel, readers: usable.length });
      }
      ctx.onProgress((i + 1) / groups.length, label);
    }
    const tableLines: string[] = [];
    let gatherTables = gatheredRows;
    let tiedNote = '';
    if (tables.length) {
      const w = await writeQuantizedWeights(out, tables, 'qdq', skips);
      // a table also read by other nodes (an LM head tied with the embedding, maybe through a
      // Transpose) is stored once: those readers read the dequantized table and compute in float
      const tied = new Map<string, string[]>();
      for (const l of w.layers) {
        if (l.alsoReadBy) tied.set(l.weight, l.alsoReadBy);
        layers.push({ node: l.node, op: l.op, weight: l.weight, emitted: `${l.emitted} -> ${l.op}`, weightType: 'int8', perChannel: true, readers: l.readers, ...(l.alsoReadBy ? { tiedWith: l.alsoReadBy } : {}) });
      }
      gatherTables += new Set(w.layers.filter((l) => l.op === 'Gather').map((l) => l.weight)).size;
      const ct = new Set(w.layers.filter((l) => l.op === 'ConvTranspose').map((l) => l.weight)).size;
      if (ct) tableLines.push(`${ct} ConvTranspose weight${ct > 1 ? 's' : ''} weight-only int8 per input channel (no integer ConvTranspose kernel)`);
      if (tied.size) tiedNote = ` (tied: ${[...tied].map(([k, v]) => `${k} also read by ${v.join('/')}`).join(', ')}: one int8 copy, that reader computes in float)`;
      warnings.push(...w.warnings.filter((x) => !x.includes('skipped (')));
    }
    if (gatherTables) tableLines.push(`${gatherTables} Gather table${gatherTables > 1 ? 's' : ''} weight-only int8 per row${gatheredRows ? ` (${gatheredRows} dequantized after the Gather, only the rows looked up)` : ''}${tiedNote}`);
    // onnxruntime fuses DynamicQuantizeLinear → MatMulInteger → Cast → Mul (→ Add) into
    // DynamicQuantizeMatMul / MatMulIntegerToFloat but has no such kernel for ConvInteger: each
    // conv runs five separate ops, no faster than float32 (ResNet-18: 0.7-1.2x at batch 1 and 8 across runs)
    const convLayers = layers.filter((l) => l.emitted === 'ConvInteger').length;
    const convShare = intElems ? convElems / intElems : 0;
    if (convLayers && convShare >= 0.5) {
      warnings.push(`${convLayers} Conv layer${convLayers > 1 ? 's' : ''} (${Math.round(convShare * 100)} % of the integer weights) as ConvInteger: onnxruntime has no fused dynamic int8 conv kernel (DynamicQuantizeLinear, ConvInteger, Cast, Mul and Add run one by one), so a conv network runs no faster than float32 (ResNet-18 on onnxruntime CPU: measured 0.7-1.2x of float32 across runs); use quantize-static (QLinearConv, measured 2.7-3.3x faster) or keep Conv float (excludeOps: Conv, --exclude-ops Conv in the CLI)`);
    }
    eliminateDeadCode(out.graph);
    const bytesAfter = modelInitializerBytes(out);
    const changed = layers.length > 0;
    const skipped = skips.summary();
    const reason = changed ? '' : nothingReason(`0 ${o.ops.join('/')} weights quantized`, skips, constantWeightNodes(out));
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed ? `dynamic int8 quantization of ${layers.filter((l) => l.op !== 'Gather' && l.op !== 'ConvTranspose').length} nodes${tableLines.length ? `; ${tableLines.join('; ')}` : ''}${raised.upgraded ? `; opset ${from} -> ${raised.opset}` : ''}${skipped ? `; ${skipped}` : ''}; initializers ${bytesBefore} -> ${bytesAfter} bytes` : reason,
        stats: { nodes: layers.length, skipped: skips.size, bytesBefore, bytesAfter, ratio: bytesAfter / Math.max(1, bytesBefore) },
        warnings: [...warnings, ...skips.warnings()],
        details: { ...(changed ? {} : { reason }), opset: { from, to: raised.opset, upgraded: raised.upgraded }, convInteger: { layers: convLayers, weightShare: convShare }, layers, skipped: skips.items, skippedByOp: skips.byOp() },
      },
    };
  },
});
