import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** com.microsoft Gelu: x · Φ(x) with the exact erf (the default-domain Gelu-20 lives in elementwise.ts). */
registerOp('Gelu', ([x]) => [T.gelu(x!)], 'com.microsoft');
