import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { expectVector } from './contrib_util.js';

/**
 * com.microsoft BiasGelu: Gelu (exact erf form) of A + B, B a 1-D bias over A's last axis —
 * onnxruntime fuses a MatMul's bias Add with the Erf-decomposed Gelu that follows it into this.
 */
registerOp(
  'BiasGelu',
  ([a, bias], ctx) => {
    expectVector(ctx, bias!, 'bias B', a!.shape[a!.rank - 1] ?? 0);
    return [T.gelu(T.add(a!, bias!))];
  },
  'com.microsoft',
);
