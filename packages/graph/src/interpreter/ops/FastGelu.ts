import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { expectVector } from './contrib_util.js';

/**
 * com.microsoft FastGelu: the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) of
 * X plus an optional 1-D bias over X's last axis.
 */
registerOp(
  'FastGelu',
  ([x, bias], ctx) => {
    if (bias) expectVector(ctx, bias, 'bias', x!.shape[x!.rank - 1] ?? 0);
    return [T.gelu(bias ? T.add(x!, bias) : x!, { approximate: 'tanh' })];
  },
  'com.microsoft',
);
