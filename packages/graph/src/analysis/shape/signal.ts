import { getInt } from '../../ir/attributes.js';
import { onnxTypeFromCode } from '../../ir/dtypes.js';
import type { Dim } from '../../ir/types.js';
import { normAxis } from './dims.js';
import { registerShapeRule, registerShapeRules } from './rule.js';

/**
 * Shape rules of the audio front-end ops: DFT, STFT, the window generators and
 * MelWeightMatrix (sizes from constant inputs when they are known), and the recurrent-state ops
 * of linear-time sequence models, CausalConvWithState and LinearAttention.
 */
const num = (d: Dim | undefined): d is number => typeof d === 'number';

registerShapeRule('DFT', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const a = c.opset >= 20 ? (c.has(2) ? c.ints(2)?.[0] : -2) : getInt(c.node, 'axis', 1);
  const inverse = getInt(c.node, 'inverse', 0) === 1;
  const onesided = getInt(c.node, 'onesided', 0) === 1;
  const shape: Dim[] = [...x.slice(0, -1), inverse && onesided ? 1 : 2];
  if (a === undefined) return [{ elem: c.elem(0), shape: shape.map((d, i) => (i < x.length - 1 ? null : d)) }];
  const ax = normAxis(a, x.length);
  if (ax === undefined || ax === x.length - 1) return c.fail(`axis ${a} is not a signal axis of an input of rank ${x.length}`);
  const d = x[ax];
  const given = c.has(1) ? c.ints(1)?.[0] : undefined;
  if (c.has(1) && given === undefined) shape[ax] = null;
  else if (inverse && onesided) shape[ax] = given ?? (num(d) ? 2 * (d - 1) : null);
  else {
    const n = given ?? d;
    shape[ax] = onesided ? (num(n) ? Math.floor(n / 2) + 1 : null) : (n ?? null);
  }
  return [{ elem: c.elem(0), shape }];
});

registerShapeRule('STFT', (c) => {
  const s = c.shape(0);
  if (!s) return [{ elem: c.elem(0) }];
  const step = c.ints(1)?.[0];
  const frameLength = c.has(3) ? c.ints(3)?.[0] : c.has(2) ? c.shape(2)?.[0] : s[1];
  const length = s[1];
  const frames = num(step) && num(frameLength) && num(length) ? Math.floor((length - frameLength) / step) + 1 : null;
  const bins = num(frameLength) ? (getInt(c.node, 'onesided', 1) === 1 ? Math.floor(frameLength / 2) + 1 : frameLength) : null;
  return [{ elem: c.elem(0), shape: [s[0] ?? null, frames, bins, 2] }];
});

registerShapeRules(['HannWindow', 'HammingWindow', 'BlackmanWindow'], (c) => [{ elem: onnxTypeFromCode(getInt(c.node, 'output_datatype', 1)), shape: [c.ints(0)?.[0] ?? null] }]);

registerShapeRule('MelWeightMatrix', (c) => {
  const dft = c.ints(1)?.[0];
  return [{ elem: onnxTypeFromCode(getInt(c.node, 'output_datatype', 1)), shape: [num(dft) ? Math.floor(dft / 2) + 1 : null, c.ints(0)?.[0] ?? null] }];
});

// CausalConvWithState: the input's shape, and the K − 1 steps of state per batch and channel
registerShapeRule('CausalConvWithState', (c) => {
  const x = c.shape(0);
  const k = c.shape(1)?.[2];
  return [{ elem: c.elem(0), shape: x }, { elem: c.elem(0), shape: x ? [x[0]!, x[1]!, num(k) ? k - 1 : null] : undefined }];
});

// LinearAttention: [B, T, Hq·dv] and the state [B, Hkv, dk, dv]
registerShapeRule('LinearAttention', (c) => {
  const [q, v] = [c.shape(0), c.shape(2)];
  const [hq, hkv] = [getInt(c.node, 'q_num_heads', 0), getInt(c.node, 'kv_num_heads', 0)];
  const dk = q && num(q[2]) && hq > 0 ? q[2] / hq : null;
  const dv = v && num(v[2]) && hkv > 0 ? v[2] / hkv : null;
  const like = c.has(3) ? c.elem(3) : c.elem(0);
  return [
    { elem: c.elem(0), shape: q ? [q[0]!, q[1]!, dv === null ? null : hq * dv] : undefined },
    { elem: like, shape: [q?.[0] ?? null, hkv > 0 ? hkv : null, dk, dv] },
  ];
});
