import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { hostFloats, hostInts, unsupported } from './util.js';

/**
 * The ai.onnx.preview.training optimizer steps Adagrad, Momentum (standard and Nesterov) and
 * Adam: one update of n tensors from their gradients and state, as the ONNX operator
 * definitions give it, in tensor ops on the tensors' backend. Inputs are (R, T, X1..Xn, G1..Gn,
 * state...); outputs (X1_new..Xn_new, state_new...).
 */
const DOMAIN = 'ai.onnx.preview.training';

/** Learning rate, step count and the n groups of `groups` tensors that follow them. */
async function unpack(inputs: readonly (Tensor | undefined)[], groups: number, ctx: OpContext): Promise<{ r: number; t: number; parts: Tensor[][] }> {
  const rest = inputs.slice(2);
  if (rest.length % groups !== 0 || rest.some((x) => !x)) unsupported(ctx, `${rest.length} tensor inputs (expected ${groups} groups of n)`);
  const n = rest.length / groups;
  const parts = Array.from({ length: groups }, (_, g) => rest.slice(g * n, (g + 1) * n) as Tensor[]);
  return { r: (await hostFloats(inputs[0]!))[0]!, t: (await hostInts(inputs[1]!))[0]!, parts };
}

/** norm_coefficient · X + G. */
const regularized = (x: Tensor, g: Tensor, ctx: OpContext): Tensor => T.add(T.mulScalar(x, ctx.float('norm_coefficient', 0)), g);

registerOp('Adagrad', async (inputs, ctx) => {
  const { r, t, parts: [xs, gs, hs] } = await unpack(inputs, 3, ctx);
  const rate = r / (1 + t * ctx.float('decay_factor', 0));
  const eps = ctx.float('epsilon', 1e-6);
  const out = xs!.map((x, i) => {
    const g = regularized(x, gs![i]!, ctx);
    const h = T.add(hs![i]!, T.mul(g, g));
    return { x: T.sub(x, T.mulScalar(T.div(g, T.addScalar(T.sqrt(h), eps)), rate)), h };
  });
  return [...out.map((o) => o.x), ...out.map((o) => o.h)];
}, DOMAIN);

registerOp('Momentum', async (inputs, ctx) => {
  const { r, t, parts: [xs, gs, vs] } = await unpack(inputs, 3, ctx);
  const alpha = ctx.float('alpha', 0);
  const beta = t > 0 ? ctx.float('beta', 0) : 1;
  const mode = ctx.string('mode', 'standard');
  if (mode !== 'standard' && mode !== 'nesterov') unsupported(ctx, `mode '${mode}'`);
  const out = xs!.map((x, i) => {
    const g = regularized(x, gs![i]!, ctx);
    const v = T.add(T.mulScalar(vs![i]!, alpha), T.mulScalar(g, beta));
    const step = mode === 'standard' ? v : T.add(g, T.mulScalar(v, alpha));
    return { x: T.sub(x, T.mulScalar(step, r)), v };
  });
  return [...out.map((o) => o.x), ...out.map((o) => o.v)];
}, DOMAIN);

registerOp('Adam', async (inputs, ctx) => {
  const { r, t, parts: [xs, gs, vs, hs] } = await unpack(inputs, 4, ctx);
  const alpha = ctx.float('alpha', 0.9);
  const beta = ctx.float('beta', 0.999);
  const eps = ctx.float('epsilon', 1e-6);
  const post = ctx.float('norm_coefficient_post', 0);
  // bias-corrected rate from the second step on
  const rate = t > 0 ? (r * Math.sqrt(1 - beta ** t)) / (1 - alpha ** t) : r;
  const out = xs!.map((x, i) => {
    const g = regularized(x, gs![i]!, ctx);
    const v = T.add(T.mulScalar(vs![i]!, alpha), T.mulScalar(g, 1 - alpha));
    const h = T.add(T.mulScalar(hs![i]!, beta), T.mulScalar(T.mul(g, g), 1 - beta));
    const stepped = T.sub(x, T.mulScalar(T.div(v, T.addScalar(T.sqrt(h), eps)), rate));
    return { x: post ? T.mulScalar(stepped, 1 - post) : stepped, v, h };
  });
  return [...out.map((o) => o.x), ...out.map((o) => o.v), ...out.map((o) => o.h)];
}, DOMAIN);
