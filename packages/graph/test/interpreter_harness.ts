/** Shared harness of the interpreter tests: run a model in Whittle and in onnxruntime-node, compare. */
import * as ort from 'onnxruntime-node';
import { expect, it } from 'vitest';
import { type BackendName, type DType, type Tensor, float16BitsToFloat32, tensor, Rng } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { GraphBuilder, type AttrInput } from '../src/builder/graph_builder.js';
import type { Model, OnnxDataType, OpsetImport } from '../src/ir/types.js';
import { runModel } from '../src/interpreter/run.js';
import { inferValueTypes } from '../src/analysis/shape/infer.js';
import '../src/interpreter/ops/index.js';

const ORT_TYPES: Partial<Record<DType, ort.Tensor.Type>> = { float32: 'float32', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool', float16: 'float16' };

async function toOrt(t: Tensor): Promise<ort.Tensor> {
  const type = ORT_TYPES[t.dtype];
  if (!type) throw new Error(`no ort type for ${t.dtype}`);
  const d = await t.data();
  return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(d as Uint8Array) : d, [...t.shape]);
}

/** Outputs of `model` in onnxruntime-node (cpu), as float64 arrays with shapes. */
export async function runOrt(model: Model, feeds: Record<string, Tensor>): Promise<{ shape: number[]; data: Float64Array }[]> {
  const session = await ort.InferenceSession.create(writeModel(model));
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = await toOrt(v);
  const out = await session.run(ortFeeds);
  return model.graph.outputs.map((o) => {
    const t = out[o.name]!;
    // float16 comes back as its bits
    const data = t.type === 'float16' ? Float64Array.from(t.data as Uint16Array, float16BitsToFloat32) : Float64Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
    return { shape: [...t.dims], data };
  });
}

/** Run the model in Whittle on `backend` and in ORT; every output must match within rtol/atol. */
export async function expectMatchesOrt(model: Model, feeds: Record<string, Tensor>, backend: BackendName, rtol = 1e-4, atol = 1e-5): Promise<void> {
  const want = await runOrt(model, feeds);
  const got = await runModel(model, feeds, { backend });
  for (let i = 0; i < want.length; i++) {
    const name = model.graph.outputs[i]!.name;
    const t = got.get(name)!;
    expect(t.backend, name).toBe(backend);
    expect([...t.shape], `shape of output ${name}`).toEqual(want[i]!.shape);
    const g = await t.toFloat64();
    const w = want[i]!.data;
    for (let k = 0; k < w.length; k++) {
      const ok = g[k] === w[k] || (Number.isNaN(g[k]) && Number.isNaN(w[k])) || Math.abs(g[k]! - w[k]!) <= atol + rtol * Math.abs(w[k]!);
      if (!ok) expect.fail(`output ${name}[${k}]: whittle ${g[k]}, onnxruntime ${w[k]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Seeded float32 data on cpu. */
export function randn(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => Math.fround(rng.normal() * scale)), shape, 'float32', { backend: 'cpu' });
}

/** Seeded integers in [lo, hi] of a dtype on cpu. */
export function randInt(shape: number[], seed: number, lo: number, hi: number, dtype: DType): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => lo + rng.int(hi - lo + 1)), shape, dtype, { backend: 'cpu' });
}

export const cpu = (values: number[], shape: number[], dtype: DType = 'float32'): Tensor => tensor(values, shape, dtype, { backend: 'cpu' });

/** A one-node model: graph inputs are `feeds` (in order), constant inputs become initializers. */
export interface OneNode {
  op: string;
  feeds: Record<string, Tensor>;
  /** Node inputs: a feed name, `init:<name>` for an entry of `inits`, or '' for a missing optional input. */
  inputs: string[];
  inits?: Record<string, Tensor>;
  attrs?: Record<string, AttrInput>;
  outputs: OnnxDataType[];
  opset?: number;
  domain?: string;
  floatAttrs?: string[];
}

const ONNX_OF: Partial<Record<DType, OnnxDataType>> = { float32: 'float32', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool', float16: 'float16' };

export function oneNode(spec: OneNode): Model {
  const b = new GraphBuilder('t');
  for (const [name, t] of Object.entries(spec.feeds)) b.input(name, ONNX_OF[t.dtype]!, [...t.shape]);
  const names = spec.inputs.map((i) => (i.startsWith('init:') ? b.initializer(i.slice(5), spec.inits![i.slice(5)]!) : i));
  const outs = b.nodeOutputs(spec.op, names, spec.attrs ?? {}, { outputs: spec.outputs.length, ...(spec.domain ? { domain: spec.domain } : {}), ...(spec.floatAttrs ? { floatAttrs: spec.floatAttrs } : {}) });
  outs.forEach((o, i) => b.output(o, spec.outputs[i]!));
  const opsets: OpsetImport[] = [{ domain: '', version: spec.opset ?? 21 }];
  if (spec.domain) opsets.push({ domain: spec.domain, version: 1 });
  return b.model(opsets, spec.opset && spec.opset < 13 ? { irVersion: 7 } : {});
}

/**
 * One test per case: the shape rules infer every output's element type and shape as onnxruntime
 * returns them for the case's feeds (strict inference at the case's opset).
 */
export function itInfersOrtOutputTypes(cases: readonly (readonly [string, OneNode])[]): void {
  for (const [name, spec] of cases) {
    it(`${name}: every inferred output shape and element type is onnxruntime's`, async () => {
      const model = oneNode(spec);
      const want = await runOrt(model, spec.feeds);
      const types = inferValueTypes(model.graph, { opset: spec.opset ?? 21, strict: true }).types;
      model.graph.outputs.forEach((o, i) => {
        const t = types.get(o.name);
        expect(t?.kind === 'tensor' ? [t.elemType, t.shape] : undefined, `output ${i}`).toEqual([spec.outputs[i], want[i]!.shape]);
      });
    });
  }
}
