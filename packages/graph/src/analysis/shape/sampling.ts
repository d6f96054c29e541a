import { getInt, getInts } from '../../ir/attributes.js';
import { onnxTypeFromCode } from '../../ir/dtypes.js';
import type { Dim, OnnxDataType } from '../../ir/types.js';
import { normAxis } from './dims.js';
import { type RuleContext, registerShapeRule, registerShapeRules } from './rule.js';

/**
 * Shape rules of the sampling, detection and generator ops: GridSample, AffineGrid, RoiAlign,
 * Col2Im, MaxUnpool, CenterCropPad, NonMaxSuppression and Unique (data-dependent counts are
 * unknown dims), and the random generators.
 */
const num = (d: Dim | undefined): d is number => typeof d === 'number';

registerShapeRule('GridSample', (c) => {
  const x = c.shape(0);
  const g = c.shape(1);
  return [{ elem: c.elem(0), shape: x && g ? [x[0]!, x[1]!, ...g.slice(1, -1)] : undefined }];
});

registerShapeRule('AffineGrid', (c) => {
  const size = c.data(1);
  return [{ elem: c.elem(0), shape: size && size.length >= 3 ? [size[0]!, ...size.slice(2), size.length - 2] : undefined }];
});

registerShapeRule('RoiAlign', (c) => {
  const x = c.shape(0);
  const rois = c.shape(1);
  return [{ elem: c.elem(0), shape: [rois?.[0] ?? null, x?.[1] ?? null, getInt(c.node, 'output_height', 1), getInt(c.node, 'output_width', 1)] }];
});

registerShapeRule('Col2Im', (c) => {
  const x = c.shape(0);
  const image = c.ints(1);
  const block = c.ints(2);
  if (!x || !image) return [{ elem: c.elem(0) }];
  const k = block?.reduce((p, v) => p * v, 1);
  const ch = num(x[1]) && k ? x[1] / k : null;
  return [{ elem: c.elem(0), shape: [x[0]!, ch, ...image] }];
});

registerShapeRule('CenterCropPad', (c) => {
  const x = c.shape(0);
  const sizes = c.ints(1);
  if (!x) return [{ elem: c.elem(0) }];
  const axes = (getInts(c.node, 'axes') ?? [...x.keys()]).map((a) => normAxis(a, x.length));
  const shape: Dim[] = [...x];
  axes.forEach((a, k) => {
    if (a !== undefined) shape[a] = sizes?.[k] ?? null;
  });
  return [{ elem: c.elem(0), shape }];
});

registerShapeRule('MaxUnpool', (c) => {
  const x = c.shape(0);
  if (c.has(2)) return [{ elem: c.elem(0), shape: c.data(2) }];
  const kernel = getInts(c.node, 'kernel_shape');
  if (!x || !kernel) return [{ elem: c.elem(0) }];
  const nd = kernel.length;
  const strides = getInts(c.node, 'strides') ?? new Array<number>(nd).fill(1);
  const pads = getInts(c.node, 'pads') ?? new Array<number>(2 * nd).fill(0);
  const spatial = x.slice(2).map((d, i) => (num(d) ? (d - 1) * strides[i]! - pads[i]! - pads[i + nd]! + kernel[i]! : null));
  return [{ elem: c.elem(0), shape: [x[0]!, x[1]!, ...spatial] }];
});

registerShapeRule('NonMaxSuppression', () => [{ elem: 'int64', shape: [null, 3] }]);

registerShapeRule('Unique', (c) => {
  const x = c.shape(0);
  const a = getInt(c.node, 'axis');
  const ax = a === undefined || !x ? undefined : normAxis(a, x.length);
  const y = a === undefined ? [null] : x && ax !== undefined ? x.map((d, i) => (i === ax ? null : d)) : undefined;
  const n: Dim = a === undefined ? (x?.every(num) ? x.reduce((p, d) => p * d, 1) : null) : ax !== undefined ? (x?.[ax] ?? null) : null;
  return [{ elem: c.elem(0), shape: y }, { elem: 'int64', shape: [null] }, { elem: 'int64', shape: [n] }, { elem: 'int64', shape: [null] }];
});

const dtypeOr = (c: RuleContext, fallback: OnnxDataType | undefined): OnnxDataType | undefined => {
  const code = getInt(c.node, 'dtype');
  return code === undefined ? fallback : onnxTypeFromCode(code);
};
registerShapeRules(['RandomNormal', 'RandomUniform'], (c) => [{ elem: dtypeOr(c, 'float32'), shape: getInts(c.node, 'shape') }]);
registerShapeRules(['RandomNormalLike', 'RandomUniformLike', 'Bernoulli'], (c) => [{ elem: dtypeOr(c, c.elem(0)), shape: c.shape(0) }]);
registerShapeRule('Multinomial', (c) => [{ elem: onnxTypeFromCode(getInt(c.node, 'dtype', 6)), shape: [c.shape(0)?.[0] ?? null, getInt(c.node, 'sample_size', 1)] }]);
