import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ai.onnx.ml Scaler: `(x - offset) * scale` per feature (the last axis), float32 out; a single
 * offset or scale applies to every feature. skl2onnx writes StandardScaler/MinMaxScaler as this.
 */
registerOp('Scaler', ([x], ctx) => {
  const xf = x!.dtype === 'float32' ? x! : T.cast(x!, 'float32');
  const features = xf.shape[xf.shape.length - 1] ?? 1;
  const param = (name: string, fallback: number): T.Tensor => {
    const v = ctx.floats(name) ?? [fallback];
    if (v.length !== 1 && v.length !== features) unsupported(ctx, `${name} of ${v.length} values for ${features} features`);
    return T.tensor(Float32Array.from(v), [v.length], 'float32', { backend: xf.backend });
  };
  return [T.mul(T.sub(xf, param('offset', 0)), param('scale', 1))];
}, 'ai.onnx.ml');
