import type { GradFn, GradientTable } from '../node.js';
import { engine } from '../../engine.js';
import { add, mul, pow } from '../../ops/binary.js';
import { full, tensor } from '../../ops/creation.js';
import { sum } from '../../ops/reduce.js';
import { expand, reshape } from '../../ops/views.js';
import type { Tensor } from '../../tensor.js';
import { type Window2d, asWindow2d } from '../../ops/window.js';
import { poolDivisors } from '../../backends/cpu/kernels/AveragePool.js';

const scalarLike = (t: Tensor, v: number): Tensor => full([], v, t.dtype, { backend: t.backend });

/** Average pooling's adjoint (any spatial rank): spread dy / divisor over each window's taps with Col2Im. */
const averagePoolGrad: GradFn<'AveragePool'> = ([dy], { inputs, attrs }) => {
  const x = inputs[0]!;
  const w = attrs;
  const [N, C] = x.shape as [number, number];
  const dims = x.shape.slice(2);
  const Q = w.outShape.reduce((p, d) => p * d, 1);
  const kk = w.kernel.reduce((p, d) => p * d, 1);
  const div = poolDivisors(w, dims, attrs.countIncludePad);
  const inv = new Float32Array(div.length);
  for (let i = 0; i < div.length; i++) inv[i] = div[i]! > 0 ? 1 / div[i]! : 0;
  const scaled = mul(reshape(dy!, [N, C, Q]), tensor(inv, [1, 1, Q], 'float32', { backend: dy!.backend }));
  const cols = reshape(expand(reshape(scaled, [N, C, 1, Q]), [N, C, kk, Q]), [N, C * kk, Q]);
  return [engine().run1('Col2Im', [cols], { kernel: w.kernel, strides: w.strides, pads: w.pads, dilations: w.dilations, outShape: w.outShape, imageShape: dims })];
};

/** BatchNormalization (inference) gradients to x, scale, bias, mean and variance. */
const batchNormGrad: GradFn<'BatchNormalization'> = ([dy], { inputs, attrs }) => {
  const [x, g, , m, v] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const C = x.shape[1]!;
  const cshape = x.shape.map((d, i) => (i === 1 ? C : 1));
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const invstd = pow(add(v, scalarLike(v, attrs.epsilon)), scalarLike(v, -0.5));
  const a = mul(g, invstd);
  const dx = mul(dy!, reshape(a, cshape));
  const db = sum(dy!, axes);
  const needS = g.requiresGrad || v.requiresGrad;
  const s = needS ? sum(mul(dy!, add(x, reshape(mul(m, scalarLike(m, -1)), cshape))), axes) : null;
  const dg = s ? mul(s, invstd) : null;
  const dm = m.requiresGrad ? mul(db, mul(a, scalarLike(a, -1))) : null;
  const dv = s && v.requiresGrad ? mul(mul(s, g), mul(pow(invstd, scalarLike(v, 3)), scalarLike(v, -0.5))) : null;
  return [dx, dg, db, dm, dv];
};

/** Gradients of the conv family, keyed by kernel name. */
export const convGradients: GradientTable = {
  Im2Col: ([dy], { inputs, attrs }) => {
    const x = inputs[0]!;
    return [engine().run1('Col2Im', [dy!], { ...attrs, imageShape: [x.shape[2]!, x.shape[3]!] })];
  },
  Col2Im: ([dy], { attrs }) => {
    // Im2Col is 2-D: only 2-D col2im and convTranspose are differentiable
    return [engine().run1('Im2Col', [dy!], asWindow2d(attrs, 'gradient of Col2Im'))];
  },
  MaxPool: ([dv], { inputs, outputs, attrs }) => {
    if (!dv) return [null];
    const x = inputs[0]!;
    return [engine().run1('MaxUnpoolAdd', [dv, outputs[1]!], { ...attrs, imageShape: x.shape.slice(2) })];
  },
  AveragePool: averagePoolGrad,
  GlobalAveragePool: ([dy], { inputs }) => {
    const x = inputs[0]!;
    const S = x.shape.slice(2).reduce((p, d) => p * d, 1);
    return [mul(expand(dy!, x.shape), scalarLike(dy!, 1 / S))];
  },
  GlobalMaxPool: ([dy], { inputs }) => {
    const x = inputs[0]!;
    const [N, C] = x.shape as [number, number];
    const S = x.shape.slice(2).reduce((p, d) => p * d, 1);
    const win: Window2d = { kernel: [S, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], outShape: [1, 1] };
    const [, indices] = engine().runKernel('MaxPool', [reshape(x, [N, C, S, 1])], { ...win });
    const dx = engine().run1('MaxUnpoolAdd', [reshape(dy!, [N, C, 1, 1]), indices!], { ...win, imageShape: [S, 1] });
    return [reshape(dx, x.shape)];
  },
  BatchNormalization: batchNormGrad,
  Pad: ([dy], { attrs, inputs }) => {
    const { pads, mode } = attrs;
    if (mode === 'constant') return [engine().run1('Pad', [dy!], { pads: pads.map((p) => -p), mode, value: 0 })];
    return [engine().run1('PadAdjoint', [dy!], { inputShape: [...inputs[0]!.shape], pads, mode })];
  },
  PadAdjoint: ([dy], { attrs }) => [engine().run1('Pad', [dy!], { pads: attrs.pads, mode: attrs.mode, value: 0 })],
};
