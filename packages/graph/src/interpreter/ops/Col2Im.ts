import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX Col2Im (opset 18): the blocks in the columns of `[N, C·∏block, L]` added back into an
 * `[N, C, ...image_shape]` image (the adjoint of im2col), with dilations, pads and strides.
 * One scatter-add along the flattened padded image with host-built positions, on the input's
 * backend (its gradient is the matching gather).
 */
registerOp('Col2Im', async ([input, imageT, blockT], ctx) => {
  const x = input!;
  const image = await hostInts(imageT!);
  const block = await hostInts(blockT!);
  const nd = image.length;
  if (block.length !== nd || x.rank !== 3) unsupported(ctx, `input [${x.shape.join(',')}] with image_shape [${image.join(',')}] and block_shape [${block.join(',')}]`);
  const dil = ctx.ints('dilations') ?? new Array<number>(nd).fill(1);
  const pads = ctx.ints('pads') ?? new Array<number>(2 * nd).fill(0);
  const strides = ctx.ints('strides') ?? new Array<number>(nd).fill(1);
  const k = block.reduce((p, v) => p * v, 1);
  const [n, ck, l] = x.shape as [number, number, number];
  if (ck % k !== 0) unsupported(ctx, `${ck} column rows for blocks of ${k}`);
  const c = ck / k;
  const padded = image.map((v, i) => v + pads[i]! + pads[i + nd]!);
  const blocks = padded.map((p, i) => Math.floor((p - (dil[i]! * (block[i]! - 1) + 1)) / strides[i]!) + 1);
  if (blocks.reduce((p, v) => p * v, 1) !== l) unsupported(ctx, `${l} columns where the image holds ${blocks.join('×')} blocks`);
  // padded-image position of block element kk in column ll
  const index = new Int32Array(k * l);
  for (let kk = 0; kk < k; kk++) {
    for (let ll = 0; ll < l; ll++) {
      let pos = 0;
      let kr = kk;
      let lr = ll;
      for (let i = nd - 1, stride = 1; i >= 0; i--) {
        const ki = kr % block[i]!;
        const li = lr % blocks[i]!;
        kr = Math.floor(kr / block[i]!);
        lr = Math.floor(lr / blocks[i]!);
        pos += (li * strides[i]! + ki * dil[i]!) * stride;
        stride *= padded[i]!;
      }
      index[kk * l + ll] = pos;
    }
  }
  const size = padded.reduce((p, v) => p * v, 1);
  const idx = T.contiguous(T.expand(T.tensor(index, [1, 1, k * l], 'int32', { backend: x.backend }), [n, c, k * l]));
  const summed = T.scatterAdd(T.zeros([n, c, size], x.dtype, { backend: x.backend }), idx, T.reshape(x, [n, c, k * l]), 2);
  const full = T.reshape(summed, [n, c, ...padded]);
  return [T.slice(full, pads.slice(0, nd), image.map((v, i) => v + pads[i]!), image.map((_, i) => i + 2))];
});
