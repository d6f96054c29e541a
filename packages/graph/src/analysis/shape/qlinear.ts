/**
 * Shape rules of onnxruntime's QOperator ops and GatherBlockQuantized (com.microsoft): each is
 * its float counterpart's rule read on the quantized data inputs; the output keeps the quantized
 * element type (the output zero point's, else the data's) — GatherBlockQuantized gives the
 * scales' float type and unpacks the last dimension of uint8 data (8 / bits codes a byte).
 */
import { getInt } from '../../ir/attributes.js';
import type { Dim } from '../../ir/types.js';
import { broadcastShapes, normAxis } from './dims.js';
import { type RuleContext, getShapeRule, inputView, registerShapeRule } from './rule.js';
import './elementwise.js';
import './indexing.js';
import './linear.js';

const MS = 'com.microsoft';

// binary ops: A (0) and B (3) broadcast; C's type is C_zero_point's (7), else A's
for (const op of ['QLinearAdd', 'QLinearMul']) {
  registerShapeRule(
    op,
    (c) => {
      const a = c.shape(0);
      const b = c.shape(3);
      const shape = a && b ? (broadcastShapes([a, b]) ?? c.fail(`cannot broadcast [${a.join(',')}] and [${b.join(',')}]`)) : undefined;
      return [{ elem: c.elem(7) ?? c.elem(0), shape }];
    },
    MS,
  );
}

// unary ops and softmax: X's shape; Y's type is Y_zero_point's (4), else X's
for (const op of ['QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearSoftmax']) {
  registerShapeRule(op, (c) => [{ elem: c.elem(4) ?? c.elem(0), shape: c.shape(0) }], MS);
}

/** NHWC… → NCHW… when channels_last, so the NCHW pool rules apply (and back). */
const channelsFirst = (s: readonly Dim[]): Dim[] => [s[0]!, s[s.length - 1]!, ...s.slice(1, -1)];
const channelsLast = (s: readonly Dim[]): Dim[] => [s[0]!, ...s.slice(2), s[1]!];

for (const [op, base] of [['QLinearAveragePool', 'AveragePool'], ['QLinearGlobalAveragePool', 'GlobalAveragePool']] as const) {
  registerShapeRule(
    op,
    (c) => {
      const last = getInt(c.node, 'channels_last', 0) === 1;
      const x = c.shape(0);
      const inner = { ...inputView(c, [0], false), shape: (i: number) => (i === 0 && x ? (last ? channelsFirst(x) : x) : undefined) };
      const out = getShapeRule(base)!(inner)[0]?.shape;
      return [{ elem: c.elem(4) ?? c.elem(0), shape: out && (last ? channelsLast(out) : out) }];
    },
    MS,
  );
}

// QLinearConcat: Y_scale, Y_zero_point, then (X, scale, zero point) triples; Concat's rule on the X's
registerShapeRule(
  'QLinearConcat',
  (c) => {
    const xs = Array.from({ length: Math.floor((c.node.inputs.length - 2) / 3) }, (_, i) => 2 + 3 * i);
    const concat = { ...c.node, inputs: xs.map((i) => c.node.inputs[i]!) };
    const out = getShapeRule('Concat')!({ ...inputView(c, xs, false), node: concat })[0]?.shape;
    return [{ elem: c.elem(1) ?? c.elem(2), shape: out }];
  },
  MS,
);

// GatherBlockQuantized: Gather on data's logical shape (uint8 packs 8/bits codes in the last dim)
registerShapeRule(
  'GatherBlockQuantized',
  (c) => {
    const data = c.shape(0);
    const idx = c.shape(1);
    const elem = c.elem(2) ?? 'float32';
    if (!data || !idx) return [{ elem }];
    const per = c.elem(0) === 'uint8' ? 8 / getInt(c.node, 'bits', 4) : 1;
    const logical = data.map((d, i) => (i === data.length - 1 && typeof d === 'number' ? d * per : i === data.length - 1 && per !== 1 ? null : d));
    const ax0 = getInt(c.node, 'gather_axis', 0);
    const ax = normAxis(ax0, data.length) ?? c.fail(`gather_axis ${ax0} out of range for rank ${data.length}`);
    return [{ elem, shape: [...logical.slice(0, ax), ...idx, ...logical.slice(ax + 1)] }];
  },
  MS,
);
