import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { onnxTypeToDType } from './elementwise.js';
import { unsupported } from './util.js';

/**
 * The random generators RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike,
 * Bernoulli and Multinomial on Whittle's seeded generator: the same `seed` attribute gives the
 * same values on every run and backend (not numpy's or onnxruntime's values: their generators
 * differ); without a seed each run draws fresh values. Samples are drawn on the host.
 */
function rngOf(ctx: OpContext): T.Rng {
  const seed = ctx.floatOpt('seed');
  // the float32 seed's bits, so fractional seeds differ too
  return new T.Rng(seed === undefined ? Math.floor(Math.random() * 2 ** 32) : new Uint32Array(new Float32Array([seed]).buffer)[0]!);
}

function asDType(t: Tensor, dtype: T.DType): Tensor {
  return t.dtype === dtype ? t : T.cast(t, dtype);
}

function floatDType(ctx: OpContext, fallback: T.DType): T.DType {
  const code = ctx.intOpt('dtype');
  const d = code === undefined ? fallback : onnxTypeToDType(code, ctx.node.name);
  if (d !== 'float32' && d !== 'float16') unsupported(ctx, `dtype ${d} (Whittle draws float32 and float16)`);
  return d;
}

const normal = (shape: readonly number[], dtype: T.DType, ctx: OpContext): Tensor =>
  asDType(T.randn(shape, rngOf(ctx), ctx.float('mean', 0), ctx.float('scale', 1), { backend: ctx.backend }), dtype);
const uniform = (shape: readonly number[], dtype: T.DType, ctx: OpContext): Tensor =>
  asDType(T.rand(shape, rngOf(ctx), ctx.float('low', 0), ctx.float('high', 1), { backend: ctx.backend }), dtype);

const shapeAttr = (ctx: OpContext): number[] => ctx.ints('shape') ?? unsupported(ctx, 'a missing shape attribute');
registerOp('RandomNormal', (_in, ctx) => [normal(shapeAttr(ctx), floatDType(ctx, 'float32'), ctx)]);
registerOp('RandomUniform', (_in, ctx) => [uniform(shapeAttr(ctx), floatDType(ctx, 'float32'), ctx)]);
registerOp('RandomNormalLike', ([x], ctx) => [normal(x!.shape, floatDType(ctx, x!.dtype), ctx)]);
registerOp('RandomUniformLike', ([x], ctx) => [uniform(x!.shape, floatDType(ctx, x!.dtype), ctx)]);

/** Bernoulli: 1 with probability p (the input), else 0, in `dtype` (default the input's). */
registerOp('Bernoulli', ([p], ctx) => {
  const code = ctx.intOpt('dtype');
  const dtype = code === undefined ? p!.dtype : onnxTypeToDType(code, ctx.node.name);
  const probs = p!.dtype === 'float32' ? p! : T.cast(p!, 'float32');
  const u = T.rand(p!.shape, rngOf(ctx), 0, 1, { backend: probs.backend });
  return [T.cast(T.less(u, probs), dtype)];
});

/**
 * Multinomial: `sample_size` class indices per batch row drawn from softmax of the row's
 * unnormalized log-probabilities, as int32 (the default) or int64.
 */
registerOp('Multinomial', async ([x], ctx) => {
  if (x!.rank !== 2) unsupported(ctx, `an input of shape [${x!.shape.join(',')}] (expected [batch, classes])`);
  const [batch, classes] = x!.shape as [number, number];
  const samples = ctx.int('sample_size', 1);
  const dtype = onnxTypeToDType(ctx.int('dtype', 6), ctx.node.name);
  if (dtype !== 'int32' && dtype !== 'int64') unsupported(ctx, `dtype ${dtype}`);
  const logits = await x!.toFloat64();
  const rng = rngOf(ctx);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = logits.subarray(b * classes, (b + 1) * classes);
    const m = Math.max(...row);
    const cdf: number[] = [];
    let total = 0;
    for (const v of row) cdf.push((total += Math.exp(v - m)));
    for (let s = 0; s < samples; s++) {
      const u = rng.uniform() * total;
      const k = cdf.findIndex((c) => u < c);
      out.push(k < 0 ? classes - 1 : k);
    }
  }
  return [T.tensor(out, [batch, samples], dtype, { backend: ctx.backend })];
});
