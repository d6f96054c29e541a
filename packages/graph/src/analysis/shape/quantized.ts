/**
 * Shape rules of the integer and quantized matmul/conv ops (ONNX and com.microsoft): each is its
 * float counterpart's rule (MatMul, Gemm, Conv) read on the data and weight inputs, so shapes —
 * and the FLOPs estimate built on them — flow through quantized models as through float ones.
 */
import { getInt } from '../../ir/attributes.js';
import type { Dim, OnnxDataType } from '../../ir/types.js';
import { type OutInfo, type RuleContext, type ShapeRule, getShapeRule, inputView, registerShapeRule } from './rule.js';
import './linear.js';

/** Register `op` as `base`'s rule on inputs (data, weight), with the output element type `elem`. */
function like(op: string, base: 'MatMul' | 'Gemm' | 'Conv', data: number, weight: number, elem: (c: RuleContext) => OnnxDataType | undefined, domain = ''): void {
  registerShapeRule(
    op,
    (c): OutInfo[] => {
      const out = getShapeRule(base)!(inputView(c, [data, weight]))[0];
      return [{ elem: elem(c), shape: out?.shape }];
    },
    domain,
  );
}

const MS = 'com.microsoft';
like('MatMulInteger', 'MatMul', 0, 1, () => 'int32');
like('ConvInteger', 'Conv', 0, 1, () => 'int32');
// QLinear*: the output has the element type of its zero point (input 7), else the input's
like('QLinearMatMul', 'MatMul', 0, 3, (c) => c.elem(7) ?? c.elem(0));
like('QLinearConv', 'Conv', 0, 3, (c) => c.elem(7) ?? c.elem(0));
// float outputs: the type of the scales
like('MatMulIntegerToFloat', 'MatMul', 0, 1, (c) => c.elem(2) ?? 'float32', MS);
like('DynamicQuantizeMatMul', 'MatMul', 0, 1, (c) => c.elem(2) ?? 'float32', MS);
// QGemm: quantized output when y_scale is given (element type of y_zero_point), else float
like('QGemm', 'Gemm', 0, 3, (c) => (c.has(7) ? (c.elem(8) ?? c.elem(0)) : 'float32'), MS);

// MatMulNBits and MatMulBnb4: B is packed codes; the output is A with its last dim K replaced by
// the N attribute.
const packedMatMul: ShapeRule = (c) => {
  const a = c.shape(0);
  const n = getInt(c.node, 'N', 0);
  const k = getInt(c.node, 'K', 0);
  if (!a || !a.length) return [{ elem: c.elem(0) }];
  const last = a[a.length - 1];
  if (typeof last === 'number' && k && last !== k) c.fail(`input has ${last} features, the K attribute says ${k}`);
  return [{ elem: c.elem(0), shape: [...a.slice(0, -1), (n || null) as Dim] }];
};
registerShapeRule('MatMulNBits', packedMatMul, MS);
registerShapeRule('MatMulBnb4', packedMatMul, MS);
