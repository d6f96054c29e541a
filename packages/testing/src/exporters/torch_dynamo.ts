import { type Model, GraphBuilder } from '@whittle/graph';
import { WIRE_I32, WIRE_VARINT, WireWriter } from '@whittle/onnx';
import { Rng } from '@whittle/tensor';
import { f32, normal } from './common.js';

/** Options of {@link torchDynamoMlp}. */
export interface TorchDynamoMlpOptions {
  /** Seed of the weights. */
  seed: number;
  /** Features in (default 64), hidden (default 256), out (default 16). */
  inFeatures?: number;
  hidden?: number;
  outFeatures?: number;
  /** fc2's weight is a rank-`rank` product plus small noise, as trained layers' spectra decay (default 24). */
  rank?: number;
}

/** An attribute of a function-body node: a value, or a reference to the caller's attribute. */
export type BodyAttr = { name: string } & ({ int: number } | { float: number } | { ints: number[] } | { string: string } | { ref: string; type: 'float' | 'int' | 'ints' | 'string' } | { graph: Uint8Array });

/** A node of a function body (or of a branch written with it). */
export interface BodyNode {
  op: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs?: BodyAttr[];
  name?: string;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, graph: 5, ints: 7 } as const;

function floatBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return b;
}

/** AttributeProto bytes (name 1, f 2, i 3, s 4, g 6, ints 8, type 20, ref_attr_name 21). */
function attribute(a: BodyAttr): Uint8Array {
  const w = new WireWriter().string(1, a.name);
  if ('ref' in a) return w.tag(20, WIRE_VARINT).varint(ATTR_TYPE[a.type]).string(21, a.ref).finish();
  if ('float' in a) return w.fixed(2, WIRE_I32, floatBytes(a.float)).tag(20, WIRE_VARINT).varint(ATTR_TYPE.float).finish();
  if ('int' in a) return w.tag(3, WIRE_VARINT).varint(a.int).tag(20, WIRE_VARINT).varint(ATTR_TYPE.int).finish();
  if ('string' in a) return w.string(4, a.string).tag(20, WIRE_VARINT).varint(ATTR_TYPE.string).finish();
  if ('graph' in a) return w.bytes(6, a.graph).tag(20, WIRE_VARINT).varint(ATTR_TYPE.graph).finish();
  for (const v of a.ints) w.tag(8, WIRE_VARINT).varint(v);
  return w.tag(20, WIRE_VARINT).varint(ATTR_TYPE.ints).finish();
}

/** NodeProto bytes (input 1, output 2, name 3, op_type 4, attribute 5, domain 7). */
function node(n: BodyNode): Uint8Array {
  const w = new WireWriter();
  for (const s of n.inputs) w.string(1, s);
  for (const s of n.outputs) w.string(2, s);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const a of n.attrs ?? []) w.bytes(5, attribute(a));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

/** ValueInfoProto with no type (a subgraph output whose type the runtime infers). */
const untyped = (name: string): Uint8Array => new WireWriter().string(1, name).finish();

/** GraphProto bytes of a branch (node 1, name 2, output 12), for a body node's graph attribute. */
export function branchProto(name: string, nodes: BodyNode[], outputs: string[]): Uint8Array {
  const w = new WireWriter();
  for (const n of nodes) w.bytes(1, node(n));
  w.string(2, name);
  for (const o of outputs) w.bytes(12, untyped(o));
  return w.finish();
}

const opset = (domain: string, version: number): Uint8Array => {
  const w = new WireWriter();
  if (domain) w.string(1, domain);
  return w.tag(2, WIRE_VARINT).varint(version).finish();
};

/** A model-local function, as {@link localFunctionProto} encodes it. */
export interface LocalFunctionSpec {
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names the body refers to (FunctionProto.attribute). */
  attrs?: string[];
  /** Attributes with a default (FunctionProto.attribute_proto). */
  defaults?: BodyAttr[];
  nodes: BodyNode[];
  /** [domain, version] op-set imports of the body. */
  opsets: [string, number][];
}

/**
 * FunctionProto bytes (name 1, input 4, output 5, attribute 6, node 7, opset_import 9, domain 10,
 * attribute_proto 11 for attributes with a default), for `Model.functions`.
 */
export function localFunctionProto(f: LocalFunctionSpec): Uint8Array {
  const w = new WireWriter().string(1, f.name);
  for (const s of f.inputs) w.string(4, s);
  for (const s of f.outputs) w.string(5, s);
  for (const s of f.attrs ?? []) w.string(6, s);
  for (const n of f.nodes) w.bytes(7, node(n));
  for (const [d, v] of f.opsets) w.bytes(9, opset(d, v));
  w.string(10, f.domain);
  for (const a of f.defaults ?? []) w.bytes(11, attribute(a));
  return w.finish();
}

const TORCH = 'pkg.torch.2.3.0+cu121';
const LIB = 'pkg.onnxscript.torch_lib';
const COMMON = 'pkg.onnxscript.torch_lib.common';
const OPSETS: [string, number][] = [['', 18], [LIB, 1], [COMMON, 1]];

/** onnxscript's torch_lib functions the modules call (bodies as torch_lib writes them, trimmed). */
function torchLibFunctions(): Uint8Array[] {
  return [
    // Rank as torch_lib.common writes it: Size(Shape(x))
    localFunctionProto({ domain: COMMON, name: 'Rank', inputs: ['input'], outputs: ['return_val'], nodes: [
      { op: 'Shape', inputs: ['input'], outputs: ['tmp'] },
      { op: 'Size', inputs: ['tmp'], outputs: ['return_val'] },
    ], opsets: [['', 18]] }),
    // aten_t: Transpose when the rank is 2, else the input itself (an If reading the function's input)
    localFunctionProto({ domain: LIB, name: 'aten_t', inputs: ['self'], outputs: ['result_5'], nodes: [
      { op: 'Rank', domain: COMMON, inputs: ['self'], outputs: ['tmp'] },
      { op: 'Constant', inputs: [], outputs: ['int64_2'], attrs: [{ name: 'value_int', int: 2 }] },
      { op: 'Equal', inputs: ['tmp', 'int64_2'], outputs: ['cond'] },
      { op: 'If', inputs: ['cond'], outputs: ['result_5'], attrs: [
        { name: 'then_branch', graph: branchProto('thenGraph_4', [{ op: 'Transpose', inputs: ['self'], outputs: ['result'], attrs: [{ name: 'perm', ints: [1, 0] }] }], ['result']) },
        { name: 'else_branch', graph: branchProto('elseGraph_4', [{ op: 'Identity', inputs: ['self'], outputs: ['result_0'] }], ['result_0']) },
      ] },
    ], opsets: OPSETS }),
    // aten_addmm: Gemm with alpha / beta bound from the caller
    localFunctionProto({ domain: LIB, name: 'aten_addmm', inputs: ['self', 'mat1', 'mat2'], outputs: ['return_val'], attrs: ['beta', 'alpha'], nodes: [
      { op: 'Gemm', inputs: ['mat1', 'mat2', 'self'], outputs: ['return_val'], attrs: [{ name: 'alpha', ref: 'alpha', type: 'float' }, { name: 'beta', ref: 'beta', type: 'float' }] },
    ], opsets: OPSETS }),
    localFunctionProto({ domain: LIB, name: 'aten_mm', inputs: ['self', 'mat2'], outputs: ['return_val'], nodes: [
      { op: 'MatMul', inputs: ['self', 'mat2'], outputs: ['return_val'] },
    ], opsets: OPSETS }),
    // exact GELU, with the approximate attribute's default in attribute_proto
    localFunctionProto({ domain: LIB, name: '_aten_gelu_approximate_none', inputs: ['self'], outputs: ['result'], attrs: [], defaults: [{ name: 'approximate', string: 'none' }], nodes: [
      { op: 'Constant', inputs: [], outputs: ['inner'], attrs: [{ name: 'value_float', float: Math.SQRT1_2 }] },
      { op: 'CastLike', inputs: ['inner', 'self'], outputs: ['tmp'] },
      { op: 'Mul', inputs: ['self', 'tmp'], outputs: ['tmp_0'] },
      { op: 'Erf', inputs: ['tmp_0'], outputs: ['tmp_1'] },
      { op: 'Constant', inputs: [], outputs: ['one'], attrs: [{ name: 'value_float', float: 1 }] },
      { op: 'CastLike', inputs: ['one', 'tmp_1'], outputs: ['one_1'] },
      { op: 'Add', inputs: ['tmp_1', 'one_1'], outputs: ['tmp_2'] },
      { op: 'Mul', inputs: ['self', 'tmp_2'], outputs: ['tmp_3'] },
      { op: 'Constant', inputs: [], outputs: ['half'], attrs: [{ name: 'value_float', float: 0.5 }] },
      { op: 'CastLike', inputs: ['half', 'tmp_3'], outputs: ['half_1'] },
      { op: 'Mul', inputs: ['tmp_3', 'half_1'], outputs: ['result'] },
    ], opsets: OPSETS }),
    // native_layer_norm: three outputs (the modules use only the first), eps by reference with a default
    localFunctionProto({ domain: LIB, name: '_aten_native_layer_norm_onnx', inputs: ['input', 'weight', 'bias'], outputs: ['norm', 'mean', 'rdenominator'], attrs: ['axis', 'eps'], defaults: [{ name: 'eps', float: 1e-5 }], nodes: [
      { op: 'LayerNormalization', inputs: ['input', 'weight', 'bias'], outputs: ['norm', 'mean', 'rdenominator'], attrs: [{ name: 'axis', ref: 'axis', type: 'int' }, { name: 'epsilon', ref: 'eps', type: 'float' }] },
    ], opsets: OPSETS }),
  ];
}

/** The module functions (`torch_nn_modules_*`), each calling torch_lib functions. */
function moduleFunctions(): Uint8Array[] {
  const linear = (name: string): Uint8Array => localFunctionProto({ domain: TORCH, name, inputs: ['l_x_', 'weight', 'bias'], outputs: ['addmm'], nodes: [
    { op: 'aten_t', domain: LIB, inputs: ['weight'], outputs: ['t'], name: 'aten_t_0' },
    { op: 'aten_addmm', domain: LIB, inputs: ['bias', 'l_x_', 't'], outputs: ['addmm'], name: 'aten_addmm_1', attrs: [{ name: 'beta', float: 1 }, { name: 'alpha', float: 1 }] },
  ], opsets: [...OPSETS, [TORCH, 1]] });
  return [
    linear('torch_nn_modules_linear_Linear_fc1_1'),
    linear('torch_nn_modules_linear_Linear_fc2_1'),
    localFunctionProto({ domain: TORCH, name: 'torch_nn_modules_activation_GELU_act_1', inputs: ['fc1_1'], outputs: ['gelu'], nodes: [
      { op: '_aten_gelu_approximate_none', domain: LIB, inputs: ['fc1_1'], outputs: ['gelu'], name: '_aten_gelu_approximate_none_0' },
    ], opsets: OPSETS }),
    localFunctionProto({ domain: TORCH, name: 'torch_nn_modules_normalization_LayerNorm_norm_1', inputs: ['fc2_1', 'weight', 'bias'], outputs: ['native_layer_norm'], nodes: [
      { op: '_aten_native_layer_norm_onnx', domain: LIB, inputs: ['fc2_1', 'weight', 'bias'], outputs: ['native_layer_norm', 'native_layer_norm_1', 'native_layer_norm_2'], name: '_aten_native_layer_norm_onnx_0', attrs: [{ name: 'axis', int: -1 }] },
    ], opsets: OPSETS }),
    // a bias-free projection: aten_t then aten_mm
    localFunctionProto({ domain: TORCH, name: 'torch_nn_modules_linear_Linear_head_1', inputs: ['norm_1', 'weight'], outputs: ['mm'], nodes: [
      { op: 'aten_t', domain: LIB, inputs: ['weight'], outputs: ['t'], name: 'aten_t_0' },
      { op: 'aten_mm', domain: LIB, inputs: ['norm_1', 't'], outputs: ['mm'], name: 'aten_mm_1' },
    ], opsets: OPSETS }),
  ];
}

/**
 * What `torch.onnx.dynamo_export` (torch 2.1–2.4, onnxscript's torch_lib) writes for an MLP
 * `Linear → GELU → Linear → LayerNorm → Linear(bias=False)` (fc2 near low rank): opset 18, `l_x_` [N, in] → `head_1`
 * [N, out]; the main graph holds only the weights (`fc1.weight` [hidden, in] as torch stores it)
 * and one call node per module into model-local functions of domain `pkg.torch.2.3.0+cu121`,
 * which call torch_lib functions (`aten_t` with an `If` on the rank reading the function's
 * input, `aten_addmm` as Gemm with alpha/beta bound from the caller by `ref_attr_name`, exact GELU
 * from Constant nodes, `_aten_native_layer_norm_onnx` with three outputs of which the module uses
 * one and `eps` taken from the function's attribute default), and `Rank` from
 * `pkg.onnxscript.torch_lib.common`. Two modules call the same functions.
 */
export function torchDynamoMlp(options: TorchDynamoMlpOptions): Model {
  const { seed, inFeatures = 64, hidden = 256, outFeatures = 16, rank = 24 } = options;
  const rng = new Rng(seed);
  const b = new GraphBuilder('main_graph');
  const x = b.input('l_x_', 'float32', ['s0', inFeatures]);
  const w = (name: string, shape: number[], std: number): string => b.initializer(name, f32(normal(rng, shape[0]! * (shape[1] ?? 1), std), shape));
  const fc1w = w('fc1.weight', [hidden, inFeatures], Math.sqrt(1 / inFeatures));
  const fc1b = w('fc1.bias', [hidden], 0.05);
  const a = normal(rng, hidden * rank, 1);
  const c = normal(rng, rank * hidden, Math.sqrt(1 / (rank * hidden)));
  const low = new Float32Array(hidden * hidden);
  for (let i = 0; i < hidden; i++) for (let k = 0; k < rank; k++) for (let j = 0; j < hidden; j++) low[i * hidden + j]! += a[i * rank + k]! * c[k * hidden + j]!;
  for (let i = 0; i < low.length; i++) low[i]! += 0.002 * rng.normal();
  const fc2w = b.initializer('fc2.weight', f32(low, [hidden, hidden]));
  const fc2b = w('fc2.bias', [hidden], 0.05);
  const lnw = b.initializer('norm.weight', f32(Float32Array.from({ length: hidden }, () => 1 + 0.1 * rng.normal()), [hidden]));
  const lnb = w('norm.bias', [hidden], 0.05);
  const headw = w('head.weight', [outFeatures, hidden], Math.sqrt(1 / hidden));
  const call = (op: string, inputs: string[], out: string): string => b.node(op, inputs, {}, { domain: TORCH, name: `${op}_0`, outputNames: [out] });
  let h = call('torch_nn_modules_linear_Linear_fc1_1', [x, fc1w, fc1b], 'fc1_1');
  h = call('torch_nn_modules_activation_GELU_act_1', [h], 'act_1');
  h = call('torch_nn_modules_linear_Linear_fc2_1', [h, fc2w, fc2b], 'fc2_1');
  h = call('torch_nn_modules_normalization_LayerNorm_norm_1', [h, lnw, lnb], 'norm_1');
  h = call('torch_nn_modules_linear_Linear_head_1', [h, headw], 'head_1');
  b.output(h, 'float32', ['s0', outFeatures]);
  return b.model([{ domain: '', version: 18 }, { domain: TORCH, version: 1 }, { domain: LIB, version: 1 }, { domain: COMMON, version: 1 }], {
    irVersion: 8,
    producerName: 'pytorch',
    producerVersion: '2.3.0',
    functions: [...torchLibFunctions(), ...moduleFunctions()],
  });
}
