import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** com.microsoft QuickGelu: x · sigmoid(alpha · x), alpha 1.702 by default (CLIP's activation). */
registerOp(
  'QuickGelu',
  ([x], ctx) => {
    const alpha = ctx.float('alpha', 1.702);
    return [T.mul(x!, T.sigmoid(alpha === 1 ? x! : T.mulScalar(x!, alpha)))];
  },
  'com.microsoft',
);
