import { type Graph, type ValueInfo, NameGenerator, inferValueTypes, opsetVersion, cloneModel, createNode, defineOptions, definePass, isDefaultDomain } from '@whittle/graph';
import { cast } from '@whittle/tensor';
import { initializerBytes } from './weights.js';

/** Options of `convert-float16`. */
export const float16Options = defineOptions({
  keepIoTypes: { type: 'boolean', default: true, description: 'keep float32 graph inputs/outputs (Cast nodes at the boundary)' },
  blockOps: { type: 'string[]', default: [], description: 'op types kept in float32 (Casts inserted around them)' },
  blockNodes: { type: 'string[]', default: [], description: 'node names kept in float32' },
});

const FLOAT = 1;
const FLOAT16 = 10;

function toHalfType(v: ValueInfo): void {
  if (v.type?.kind === 'tensor' && v.type.elemType === 'float32') v.type = { ...v.type, elemType: 'float16' };
}

/**
 * `convert-float16`: float32 initializers and computation to float16. With `keepIoTypes` the
 * graph keeps float32 inputs/outputs and Casts at the boundary; blocked ops run in float32 with
 * Casts around them.
 */
export const convertFloat16Pass = definePass({
  specificationVersion: 'v1',
  name: 'convert-float16',
  description: 'Convert float32 weights and computation to float16 (Casts at the inputs/outputs and around blocked ops).',
  optionsSchema: float16Options,
  async run(model, ctx) {
    const o = ctx.options;
    const out = cloneModel(model);
    const g: Graph = out.graph;
    const bytesBefore = initializerBytes(g);
    const names = new NameGenerator(g);
    const blocked = (n: { opType: string; name: string; domain: string }): boolean => (isDefaultDomain(n.domain) && o.blockOps.includes(n.opType)) || o.blockNodes.includes(n.name);
    // which values are float32 now (graph inputs, initializers, value_info, node outputs we can type)
    const inferred = inferValueTypes(g, { opset: opsetVersion(out) ?? 21 }).types;
    const floatValues = new Set<string>();
    for (const [k, t] of inferred) if (t.kind === 'tensor' && t.elemType === 'float32') floatValues.add(k);
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo.values()]) if (v.type?.kind === 'tensor' && v.type.elemType === 'float32') floatValues.add(v.name);
    let converted = 0;
    for (const [k, t] of [...g.initializers]) {
      if (t.dtype !== 'float32') continue;
      // initializers read only by blocked nodes stay float32
      const users = g.nodes.filter((n) => n.inputs.includes(k));
      if (users.length && users.every(blocked)) continue;
      g.initializers.set(k, cast(t, 'float16'));
      floatValues.add(k);
      converted++;
    }
    // float attributes of Cast/ConstantOfShape/Constant that produce float32
    for (const n of g.nodes) {
      if (blocked(n) || !isDefaultDomain(n.domain)) continue;
      const to = n.attributes.get('to');
      if ((n.opType === 'Cast' || n.opType === 'CastLike') && to?.type === 'int' && to.value === FLOAT) n.attributes.set('to', { type: 'int', value: FLOAT16 });
      if (n.opType === 'Constant' || n.opType === 'ConstantOfShape') {
        const v = n.attributes.get('value');
        if (v?.type === 'tensor' && 'dtype' in v.value && v.value.dtype === 'float32') n.attributes.set('value', { type: 'tensor', value: cast(v.value, 'float16') });
      }
    }
    // boundary casts: inputs
    const newFront = [];
    for (const inp of g.inputs) {
      if (!(inp.type?.kind === 'tensor' && inp.type.elemType === 'float32')) continue;
      if (!o.keepIoTypes) {
        toHalfType(inp);
        continue;
      }
      const half = names.value(`${inp.name}_fp16`);
      floatValues.add(half);
      for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === inp.name ? half : i));
      newFront.push(createNode('Cast', [inp.name], [half], { to: { type: 'int', value: FLOAT16 } }, { name: names.node(`${inp.name}_to_fp16`) }));
    }
    g.nodes.unshift(...newFront);
    // blocked nodes: cast float16 inputs up, float outputs down
    for (const n of [...g.nodes]) {
      if (!blocked(n)) continue;
      const before = [];
      const after = [];
      for (let i = 0; i < n.inputs.length; i++) {
        const x = n.inputs[i]!;
        if (!x || g.initializers.get(x)?.dtype === 'float32') continue;
        if (!floatValues.has(x) || !isHalf(g, x)) continue;
        const up = names.value(`${x}_fp32`);
        before.push(createNode('Cast', [x], [up], { to: { type: 'int', value: FLOAT } }, { name: names.node(`${n.name}_in${i}_to_fp32`) }));
        n.inputs[i] = up;
      }
      for (let i = 0; i < n.outputs.length; i++) {
        const y = n.outputs[i]!;
        if (!y || !floatValues.has(y)) continue;
        const f32 = names.value(`${y}_fp32`);
        n.outputs[i] = f32;
        after.push(createNode('Cast', [f32], [y], { to: { type: 'int', value: FLOAT16 } }, { name: names.node(`${n.name}_out${i}_to_fp16`) }));
      }
      const at = g.nodes.indexOf(n);
      g.nodes.splice(at, 1, ...before, n, ...after);
    }
    // outputs
    for (const outp of g.outputs) {
      if (!(outp.type?.kind === 'tensor' && outp.type.elemType === 'float32')) continue;
      if (!o.keepIoTypes) {
        toHalfType(outp);
        continue;
      }
      const half = names.value(`${outp.name}_fp16`);
      for (const n of g.nodes) {
        n.outputs = n.outputs.map((x) => (x === outp.name ? half : x));
        n.inputs = n.inputs.map((x) => (x === outp.name ? half : x));
      }
      g.nodes.push(createNode('Cast', [half], [outp.name], { to: { type: 'int', value: FLOAT } }, { name: names.node(`${outp.name}_to_fp32`) }));
    }
    for (const v of g.valueInfo.values()) toHalfType(v);
    g.valueInfo.clear();
    const bytesAfter = initializerBytes(g);
    return {
      model: out,
      report: {
        changed: converted > 0,
        summary: `converted ${converted} initializers to float16${o.keepIoTypes ? ' (float32 inputs/outputs kept)' : ''}; initializers ${bytesBefore} -> ${bytesAfter} bytes`,
        stats: { initializers: converted, bytesBefore, bytesAfter, ratio: bytesAfter / Math.max(1, bytesBefore) },
        details: { blockedOps: o.blockOps, blockedNodes: o.blockNodes },
      },
    };
  },
});

/** Every non-initializer float value is float16 after conversion, except graph inputs kept float32. */
function isHalf(g: Graph, x: string): boolean {
  if (g.initializers.has(x)) return g.initializers.get(x)!.dtype === 'float16';
  const inp = g.inputs.find((i) => i.name === x);
  if (inp) return inp.type?.kind === 'tensor' && (inp.type.elemType === 'float16' || inp.type.elemType === 'float32') ? inp.type.elemType === 'float16' : false;
  return true;
}
