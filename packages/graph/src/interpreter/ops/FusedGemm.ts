import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { scalarLike, unsupported } from './util.js';
import { badInput } from './contrib_util.js';

type Activation = (y: Tensor, param: (name: 'alpha' | 'beta' | 'gamma') => number) => Tensor;

const negativeExp = (y: Tensor, alpha: number): Tensor => T.where(T.greater(y, scalarLike(y, 0)), y, T.mulScalar(T.addScalar(T.exp(y), -1), alpha));

/**
 * The activations onnxruntime's FusedGemm kernel applies (its ElementWiseRangedTransform set),
 * with their parameters from `activation_alpha` / `activation_beta` / `activation_gamma` — all
 * required, as onnxruntime requires them (the fusion copies them from the activation node).
 */
const ACTIVATIONS: Record<string, Activation> = {
  Relu: (y) => T.relu(y),
  Tanh: (y) => T.tanh(y),
  Sigmoid: (y) => T.sigmoid(y),
  LeakyRelu: (y, p) => T.leakyRelu(y, p('alpha')),
  HardSigmoid: (y, p) => T.hardSigmoid(y, p('alpha'), p('beta')),
  Elu: (y, p) => negativeExp(y, p('alpha')),
  Selu: (y, p) => T.mulScalar(negativeExp(y, p('alpha')), p('gamma')),
  Softplus: (y) => T.softplus(y),
  Softsign: (y) => T.div(y, T.addScalar(T.abs(y), 1)),
  ThresholdedRelu: (y, p) => T.where(T.greater(y, scalarLike(y, p('alpha'))), y, scalarLike(y, 0)),
  ScaledTanh: (y, p) => T.mulScalar(T.tanh(T.mulScalar(y, p('beta'))), p('alpha')),
  ParametricSoftplus: (y, p) => T.mulScalar(T.softplus(T.mulScalar(y, p('beta'))), p('alpha')),
};

function activate(y: Tensor, ctx: OpContext): Tensor {
  const name = ctx.string('activation', '');
  const f = ACTIVATIONS[name];
  if (!f) unsupported(ctx, `activation '${name}'`);
  return f(y, (p) => {
    const v = ctx.floatOpt(`activation_${p}`);
    if (v === undefined) throw badInput(ctx, `activation ${name} needs the attribute activation_${p}`);
    return v;
  });
}

/**
 * com.microsoft FusedGemm: onnxruntime's Gemm (alpha, beta, transA, transB, C broadcast) with the
 * activation that followed it fused in (`activation`: Relu, Tanh, Sigmoid, LeakyRelu,
 * HardSigmoid, Elu, Selu, Softplus, Softsign, ThresholdedRelu, ScaledTanh, ParametricSoftplus) —
 * a BERT pooler's Gemm + Tanh becomes one.
 */
registerOp(
  'FusedGemm',
  ([a, b, c], ctx) => [
    activate(T.gemm(a!, b!, c ?? null, { alpha: ctx.float('alpha', 1), beta: ctx.float('beta', 1), transA: ctx.int('transA', 0) === 1, transB: ctx.int('transB', 0) === 1 }), ctx),
  ],
  'com.microsoft',
);
