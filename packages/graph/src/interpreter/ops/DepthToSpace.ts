import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX DepthToSpace (DCR and CRD modes) and SpaceToDepth as reshape + transpose. */
registerOp('DepthToSpace', ([x], ctx) => {
  const b = ctx.int('blocksize', 1);
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const c = C / (b * b);
  const y =
    ctx.string('mode', 'DCR') === 'CRD'
      ? T.transpose(T.reshape(x!, [N, c, b, b, H, W]), [0, 1, 4, 2, 5, 3])
      : T.transpose(T.reshape(x!, [N, b, b, c, H, W]), [0, 3, 4, 1, 5, 2]);
  return [T.reshape(y, [N, c, H * b, W * b])];
});

registerOp('SpaceToDepth', ([x], ctx) => {
  const b = ctx.int('blocksize', 1);
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const y = T.transpose(T.reshape(x!, [N, C, H / b, b, W / b, b]), [0, 3, 5, 1, 2, 4]);
  return [T.reshape(y, [N, C * b * b, H / b, W / b])];
});
