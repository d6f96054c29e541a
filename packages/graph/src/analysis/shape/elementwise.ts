import { getInt } from '../../ir/attributes.js';
import { onnxTypeFromCode } from '../../ir/dtypes.js';
import type { Dim } from '../../ir/types.js';
import { broadcastShapes } from './dims.js';
import { type OutInfo, type RuleContext, registerShapeRules } from './rule.js';

const UNARY = [
  'Identity', 'Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Erf', 'Gelu', 'LeakyRelu',
  'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Clip', 'Elu', 'Selu', 'Celu', 'Mish', 'ThresholdedRelu',
  'Softmax', 'LogSoftmax', 'Hardmax', 'Floor', 'Ceil', 'Round', 'Sign', 'Reciprocal', 'Sin', 'Cos', 'Tan',
  'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'BatchNormalization',
  'InstanceNormalization', 'GroupNormalization', 'LpNormalization', 'LRN',
  'MeanVarianceNormalization', 'CumSum', 'CumProd', 'BitwiseNot', 'Shrink', 'Trilu', 'ReverseSequence', 'TensorScatter',
];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'PRelu', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'Max', 'Min', 'Sum', 'Mean'];
const COMPARE = ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor'];

function same(c: RuleContext): OutInfo[] {
  const out: OutInfo = { elem: c.elem(0), shape: c.shape(0) };
  if (c.node.opType === 'Identity') out.data = c.data(0);
  return [out];
}

function broadcastInputs(c: RuleContext, from: number): readonly Dim[] | undefined {
  const shapes: (readonly Dim[])[] = [];
  for (let i = from; i < c.node.inputs.length; i++) {
    if (!c.has(i)) continue;
    const s = c.shape(i);
    if (!s) return undefined;
    shapes.push(s);
  }
  const out = broadcastShapes(shapes);
  if (!out) c.fail(`cannot broadcast input shapes ${shapes.map((s) => `[${s.join(',')}]`).join(' and ')}`);
  return out;
}

const ARITH: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => Math.trunc(a / b),
  Max: Math.max,
  Min: Math.min,
};

/** Comparisons and logic on known small data (0 / 1), e.g. an exporter's `Equal(Rank(w), 2)`. */
const COMPARE_DATA: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  LessOrEqual: (a, b) => a <= b,
  Greater: (a, b) => a > b,
  GreaterOrEqual: (a, b) => a >= b,
  And: (a, b) => a !== 0 && b !== 0,
  Or: (a, b) => a !== 0 || b !== 0,
  Xor: (a, b) => (a !== 0) !== (b !== 0),
};

/** Element-wise `f` over the known data of two inputs (broadcast 1 ↔ n); a symbolic element stays unknown unless `symbolic` decides it. */
function pairData(c: RuleContext, f: (a: number, b: number) => number, symbolic?: (a: Dim, b: Dim) => Dim): Dim[] | undefined {
  const a = c.data(0);
  const b = c.data(1);
  if (!a || !b || c.node.inputs.length !== 2) return undefined;
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i]!;
    const y = b[b.length === 1 ? 0 : i]!;
    out.push(typeof x === 'number' && typeof y === 'number' ? f(x, y) : (symbolic?.(x, y) ?? null));
  }
  return out;
}

/** Propagate small integer data through Add/Sub/Mul/Div (e.g. shape arithmetic). */
function binaryData(c: RuleContext): Dim[] | undefined {
  const f = ARITH[c.node.opType];
  if (!f) return undefined;
  return pairData(c, f, c.node.opType === 'Mul' ? (x, y) => (x === 1 ? y : y === 1 ? x : null) : undefined);
}

function compareData(c: RuleContext): Dim[] | undefined {
  const f = COMPARE_DATA[c.node.opType];
  if (!f) return undefined;
  // the same named dim equals itself
  return pairData(c, (a, b) => (f(a, b) ? 1 : 0), c.node.opType === 'Equal' ? (x, y) => (typeof x === 'string' && x === y ? 1 : null) : undefined);
}

registerShapeRules(UNARY, (c) => {
  const r = same(c);
  if (c.node.opType === 'BatchNormalization' && c.node.outputs.length > 1) {
    const s = c.shape(1);
    for (let i = 1; i < c.node.outputs.length; i++) r.push({ elem: c.elem(0), shape: s });
  }
  return r;
});
registerShapeRules(['Dropout'], (c) => [{ elem: c.elem(0), shape: c.shape(0) }, { elem: 'bool', shape: c.shape(0) }]);
registerShapeRules(['Not', 'IsNaN', 'IsInf'], (c) => [{ elem: 'bool', shape: c.shape(0), data: c.node.opType === 'Not' ? c.data(0)?.map((v) => (typeof v === 'number' ? Number(v === 0) : null)) : undefined }]);
registerShapeRules(BINARY, (c) => [{ elem: c.elem(0), shape: broadcastInputs(c, 0), data: binaryData(c) }]);
registerShapeRules(COMPARE, (c) => [{ elem: 'bool', shape: broadcastInputs(c, 0), data: compareData(c) }]);
registerShapeRules(['Where'], (c) => [{ elem: c.elem(1), shape: broadcastInputs(c, 0) }]);
registerShapeRules(['Cast'], (c) => [
  { elem: onnxTypeFromCode(getInt(c.node, 'to', 0)), shape: c.shape(0), data: c.data(0) },
]);
// BitCast reinterprets bits between types of one width: same shape, no values
registerShapeRules(['BitCast'], (c) => [{ elem: onnxTypeFromCode(getInt(c.node, 'to', 0)), shape: c.shape(0) }]);
registerShapeRules(['CastLike'], (c) => [{ elem: c.elem(1), shape: c.shape(0), data: c.data(0) }]);
