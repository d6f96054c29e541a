import {
  type Graph, type Node, type ValueInfo, NameGenerator, cloneModel, createNode, defineOptions, definePass, definedNames, eliminateDeadCode, graphScopes, isDefaultDomain, opsetVersion, scopedName, subgraphsOf,
} from '@whittle/graph';
import { cast, tensor } from '@whittle/tensor';
import { type RangeFinding, findRangeBlocked, measureRanges } from './float16_ranges.js';
import { followOutOfRange, integerAccumulatorNodes, integerDequantizeNodes, outOfRangeConstants, reads } from './float16_static.js';
import { type ElemTypes, inferElemTypes } from './elem_types.js';
import { modelInitializerBytes } from './weights.js';
import { declaredShapes, redeclareShapes } from './value_shapes.js';

/** Options of `convert-float16`. */
export const float16Options = defineOptions({
  keepIoTypes: { type: 'boolean', default: true, description: 'keep float32 graph inputs/outputs (Cast nodes at the boundary)' },
  blockOps: { type: 'string[]', default: [], description: 'op types kept in float32 (Casts inserted around them)' },
  blockNodes: { type: 'string[]', default: [], description: 'node names kept in float32' },
  measure: { type: 'boolean', default: true, description: 'with calibration data: run the float32 model, keep in float32 the nodes whose values leave float16\'s range (|x| > 65504, and their readers until the values are back in range) or fall mostly below its normal range (variances)' },
  maxBatches: { type: 'number', integer: true, min: 1, default: 8, description: 'calibration batches used to measure ranges' },
  underflowFraction: { type: 'number', min: 0, max: 1, default: 0.25, description: 'a node whose nonzero outputs are below float16\'s smallest normal (6.1e-5) at least this often stays float32' },
});

const FLOAT = 1;
const FLOAT16 = 10;

/** Inputs that must stay float32 whatever the data type (Resize/Upsample roi and scales). */
const FLOAT32_INPUTS: Record<string, readonly number[]> = { Resize: [1, 2], Upsample: [1] };

function toHalfType(v: ValueInfo): void {
  if (v.type?.kind === 'tensor' && v.type.elemType === 'float32') v.type = { ...v.type, elemType: 'float16' };
}

/** Rename reads of `from` to `to` in `g` and its subgraphs (where not shadowed), outputs included. */
function renameReads(g: Graph, from: string, to: string, top = true): void {
  if (!top && definedNames(g).has(from)) return;
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    for (const sg of subgraphsOf(n)) renameReads(sg, from, to, false);
  }
  if (!top) for (const o of g.outputs) if (o.name === from) o.name = to;
}

/**
 * `convert-float16`: float32 initializers and computation to float16, in the main graph and every
 * If/Loop/Scan subgraph (branch inputs/outputs follow). With `keepIoTypes` the graph keeps float32
 * inputs/outputs and Casts at the boundary; blocked ops run in float32 with Casts around them;
 * inputs that must be float32 whatever the data type (Resize roi/scales) are kept or cast back.
 */
export const convertFloat16Pass = definePass({
  specificationVersion: 'v1',
  name: 'convert-float16',
  cli: { group: 'quantize', command: 'float16' },
  description: 'Convert float32 weights and computation to float16 (Casts at the inputs/outputs and around blocked ops).',
  optionsSchema: float16Options,
  async run(model, ctx) {
    const o = ctx.options;
    const out = cloneModel(model);
    const opset = opsetVersion(out) ?? 21;
    const bytesBefore = modelInitializerBytes(out);
    const names = new NameGenerator(out.graph);
    const types: ElemTypes = inferElemTypes(out);
    const isFloat = (x: string | undefined): boolean => !!x && types.get(x) === 'float32';
    // ops whose float inputs/outputs cannot be float16 at this opset run in float32 islands
    const autoBlocked = new Set(['DynamicQuantizeLinear', ...(opset < 19 ? ['QuantizeLinear', 'DequantizeLinear'] : [])]);
    // float32 constants float16 cannot hold (|x| > 65504 becomes inf): their readers stay float32
    const constants = await outOfRangeConstants(out.graph);
    const outOfRange = new Set<string>(constants.names);
    const rangeBlocked = new Set<Node>(constants.readers);
    // measured: values that leave the float16 range on calibration data, their producers and readers
    let findings: RangeFinding[] = [];
    let measuredBatches = 0;
    const measured = !!(o.measure && ctx.calibration);
    if (measured) {
      const m = await measureRanges(model, types, ctx.calibration!, { maxBatches: o.maxBatches, backend: ctx.backend, signal: ctx.signal, activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime });
      measuredBatches = m.batches;
      findings = findRangeBlocked(out.graph, m.ranges, { underflowFraction: o.underflowFraction, alreadyBlocked: rangeBlocked });
      for (const f of findings) rangeBlocked.add(f.node);
    }
    // where nothing was measured (no data, or If/Loop bodies, which the measurement does not
    // reach), the readers of an out-of-range fill (a mask) are followed until a bounding op
    const followed = followOutOfRange(out.graph, constants.fillReaders, types, (sg) => !measured || sg !== out.graph);
    for (const n of followed) rangeBlocked.add(n);
    // integer accumulators (MatMulInteger int32 outputs reach 1e5) are cast and rescaled in float32
    const accumulators = integerAccumulatorNodes(out.graph).filter((n) => !rangeBlocked.has(n));
    for (const n of accumulators) rangeBlocked.add(n);
    // integer weights dequantized in the graph are computed in float32, rounded to float16 once
    const dequantizers = integerDequantizeNodes(out.graph).filter((n) => !rangeBlocked.has(n));
    for (const n of dequantizers) rangeBlocked.add(n);
    // ai.onnx.ml ops (Scaler, LinearClassifier, ZipMap, TreeEnsemble*, ...) take no float16
    // (onnxruntime refuses the model): they always run in float32 islands
    const blocked = (n: Node): boolean => rangeBlocked.has(n) || n.domain === 'ai.onnx.ml' || (isDefaultDomain(n.domain) && (o.blockOps.includes(n.opType) || autoBlocked.has(n.opType))) || (!!n.name && o.blockNodes.includes(n.name));
    const pinned = (n: Node, i: number): boolean => isDefaultDomain(n.domain) && (FLOAT32_INPUTS[n.opType]?.includes(i) ?? false);
    // a read that needs float32: a blocked node's input or a pinned slot
    const needs32 = (r: { node: Node; input: number }): boolean => r.input >= 0 && (blocked(r.node) || pinned(r.node, r.input));
    const kept32 = new Set<string>();
    const scopes = graphScopes(out.graph);
    const shapes = declaredShapes(scopes);
    let converted = 0;
    const stats = { casts: 0, constants: 0, subgraphs: 0, float32Inputs: 0 };
    for (const s of scopes) {
      const g = s.graph;
      for (const [k, t] of [...g.initializers]) {
        if (t.dtype !== 'float32') continue;
        const rs = reads(g, k);
        if (rs.length && rs.every(needs32)) {
          kept32.add(k);
          continue;
        }
        g.initializers.set(k, cast(t, 'float16'));
        converted++;
      }
      for (const n of g.nodes) {
        if (blocked(n) || !isDefaultDomain(n.domain)) continue;
        const y = n.outputs[0];
        const onlyFor32 = (): boolean => {
          const rs = y ? reads(g, y) : [];
          return rs.length > 0 && rs.every(needs32);
        };
        const to = n.attributes.get('to');
        if (n.opType === 'Cast' && to?.type === 'int' && to.value === FLOAT) {
          if (onlyFor32()) kept32.add(y!);
          else {
            n.attributes.set('to', { type: 'int', value: FLOAT16 });
            stats.casts++;
          }
        }
        if (n.opType === 'Constant' || n.opType === 'ConstantOfShape') {
          const v = n.attributes.get('value');
          const isF32 = v?.type === 'tensor' && 'dtype' in v.value && v.value.dtype === 'float32';
          if (isF32 || (n.opType === 'ConstantOfShape' && !v)) {
            if (onlyFor32()) kept32.add(y!);
            else if (isF32 && v?.type === 'tensor' && 'dtype' in v.value) {
              n.attributes.set('value', { type: 'tensor', value: cast(v.value, 'float16') });
              stats.constants++;
            } else if (!v) {
              n.attributes.set('value', { type: 'tensor', value: cast(tensor(new Float32Array([0]), [1], 'float32', { backend: 'cpu' }), 'float16') });
              stats.constants++;
            }
          }
          if (n.opType === 'Constant' && (n.attributes.has('value_float') || n.attributes.has('value_floats')) && !onlyFor32()) {
            const a = n.attributes.get('value_float') ?? n.attributes.get('value_floats')!;
            const vals = a.type === 'float' ? [a.value] : a.type === 'floats' ? a.value : [];
            n.attributes.delete('value_float');
            n.attributes.delete('value_floats');
            n.attributes.set('value', { type: 'tensor', value: cast(tensor(Float32Array.from(vals), a.type === 'float' ? [] : [vals.length], 'float32', { backend: 'cpu' }), 'float16') });
            stats.constants++;
          }
        }
      }
      if (s.path) {
        // branch / body interfaces follow the values they carry
        for (const v of [...g.inputs, ...g.outputs]) if (!kept32.has(v.name)) toHalfType(v);
        stats.subgraphs++;
      }
      g.valueInfo.clear();
    }
    const g = out.graph;
    // boundary casts: inputs
    const front: Node[] = [];
    // a float32 node reading another one's output (or a kept float32 graph input) reads that
    // float32 value directly (no round trip through float16)
    const fp32Of = new Map<string, string>();
    for (const inp of g.inputs) {
      if (!(inp.type?.kind === 'tensor' && inp.type.elemType === 'float32') || g.initializers.has(inp.name)) continue;
      if (!o.keepIoTypes) {
        toHalfType(inp);
        continue;
      }
      const half = names.value(`${inp.name}_fp16`);
      renameReads(g, inp.name, half);
      types.set(half, 'float32');
      fp32Of.set(half, inp.name);
      front.push(createNode('Cast', [inp.name], [half], { to: { type: 'int', value: FLOAT16 } }, { name: names.node(`${inp.name}_to_fp16`) }));
    }
    g.nodes.unshift(...front);
    // float32 islands (blocked nodes) and float32-only inputs, in every graph
    for (const s of scopes) {
      const sg = s.graph;
      for (const n of [...sg.nodes]) {
        const isBlocked = blocked(n);
        const before: Node[] = [];
        const after: Node[] = [];
        for (let i = 0; i < n.inputs.length; i++) {
          const x = n.inputs[i]!;
          if (!x || kept32.has(x) || !isFloat(x) || !(isBlocked || pinned(n, i))) continue;
          const direct = fp32Of.get(x);
          if (direct) {
            n.inputs[i] = direct;
            continue;
          }
          if (front.some((c) => c.inputs[0] === x)) continue; // a kept float32 graph input
          const up = names.value(`${x}_fp32`);
          before.push(createNode('Cast', [x], [up], { to: { type: 'int', value: FLOAT } }, { name: names.node(`${n.name || n.opType}_in${i}_to_fp32`) }));
          n.inputs[i] = up;
          stats.float32Inputs++;
        }
        if (isBlocked) {
          for (let i = 0; i < n.outputs.length; i++) {
            const y = n.outputs[i]!;
            if (!y || !isFloat(y)) continue;
            const f32 = names.value(`${y}_fp32`);
            n.outputs[i] = f32;
            fp32Of.set(y, f32);
            after.push(createNode('Cast', [f32], [y], { to: { type: 'int', value: FLOAT16 } }, { name: names.node(`${n.name || n.opType}_out${i}_to_fp16`) }));
          }
        }
        if (before.length || after.length) sg.nodes.splice(sg.nodes.indexOf(n), 1, ...before, n, ...after);
      }
    }
    // outputs
    for (const outp of g.outputs) {
      if (!(outp.type?.kind === 'tensor' && outp.type.elemType === 'float32')) continue;
      if (!o.keepIoTypes) {
        toHalfType(outp);
        continue;
      }
      const half = names.value(`${outp.name}_fp16`);
      for (const n of g.nodes) n.outputs = n.outputs.map((x) => (x === outp.name ? half : x));
      renameReads(g, outp.name, half);
      g.nodes.push(createNode('Cast', [half], [outp.name], { to: { type: 'int', value: FLOAT } }, { name: names.node(`${outp.name}_to_fp32`) }));
    }
    for (const s of scopes) eliminateDeadCode(s.graph); // float16 Casts only float32 nodes would have read
    redeclareShapes(scopes, shapes, opset);
    const bytesAfter = modelInitializerBytes(out);
    // Casts to float32 turned to float16 alone store nothing smaller: the weights were float16 already
    const changed = converted > 0 || stats.constants > 0;
    const kept = [...kept32].map((k) => scopedName({ path: '' }, k));
    const reason = changed ? '' : stats.casts ? `0 float32 initializers or Constant nodes to convert: the weights are float16 already (only ${stats.casts} Cast node(s) to float32 would change, which stores nothing smaller)` : '0 float32 initializers, Constant or Cast nodes to convert (the model holds no float32 weights)';
    // onnxruntime's CPU provider computes most float16 ops in float32: an overflow shows only where float16 is computed
    const unmeasured = changed && o.measure && !measured
      ? ['activation ranges not measured (no calibration data): if the model computes values beyond float16\'s range (a decoder\'s massive activations squared in a norm, large residual sums), they overflow where float16 is computed (WebGPU), which onnxruntime\'s CPU provider, computing most float16 ops in float32, does not show; give calibration data (--data) to find them and keep those ops float32']
      : [];
    // a model whose weights are integers already (int8 QDQ / ConvInteger): float16 halves only its
    // float32 scales and biases, and changes the computation more than the size
    const little = changed && bytesAfter > 0.9 * bytesBefore
      ? [`the initializers shrink only ${(100 * (1 - bytesAfter / Math.max(1, bytesBefore))).toFixed(2)} % (${bytesBefore} -> ${bytesAfter} bytes): most of the weights are not float32 (integer codes of a quantized model keep their size); float16 mostly changes the computation here, which onnxruntime's CPU provider may run slower`]
      : [];
    const warnings = [...unmeasured, ...little];
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        ...(warnings.length ? { warnings } : {}),
        summary: changed
          ? `converted ${converted} initializers${stats.constants ? ` and ${stats.constants} Constant node(s)` : ''} to float16 in ${scopes.length} graph(s)${o.keepIoTypes ? ' (float32 inputs/outputs kept)' : ''}${kept.length ? `; ${kept.length} values kept float32 for ops that need it` : ''}${rangeBlocked.size ? `; ${rangeBlocked.size} nodes kept float32 (${findings.length} by measured ranges${accumulators.length ? `, ${accumulators.length} casting and rescaling integer accumulators` : ''}${dequantizers.length ? `, ${dequantizers.length} dequantizing integer weights` : ''}${followed.length ? `, ${followed.length} computing from constants beyond the float16 range until a Softmax` : ''}${outOfRange.size ? `, readers of constants beyond the float16 range: ${[...outOfRange].slice(0, 3).join(', ')}` : ''})` : ''}; initializers ${bytesBefore} -> ${bytesAfter} bytes`
          : reason,
        stats: { initializers: converted, ...stats, bytesBefore, bytesAfter, ratio: bytesAfter / Math.max(1, bytesBefore) },
        details: {
          ...(reason ? { reason } : {}),
          outOfRangeConstants: [...outOfRange],
          integerAccumulatorNodes: accumulators.map((n) => n.name || n.opType),
          integerDequantizeNodes: dequantizers.map((n) => n.name || n.opType),
          followedFromConstants: followed.map((n) => n.name || n.opType),
          float32Nodes: [...rangeBlocked].map((n) => n.name || n.opType),
          measured: measured ? { batches: measuredBatches, float32: findings.map((f) => ({ node: f.node.name || f.node.opType, op: f.node.opType, reason: f.reason, value: f.value, maxAbs: f.maxAbs, underflow: f.underflow })) } : 'no calibration data: only constants beyond the float16 range and integer accumulators were checked',
          blockedOps: o.blockOps, blockedNodes: o.blockNodes, autoBlockedOps: [...autoBlocked], keptFloat32: kept },
      },
    };
  },
});
