import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { dft } from './DFT.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX STFT (opset 17): frames of `frame_length` samples every `frame_step` samples of a
 * `[batch, length, 1|2]` signal, gathered on the signal's backend, multiplied by the window and
 * transformed with {@link dft}: `[batch, frames, bins, 2]`, bins = frame_length / 2 + 1 when
 * one-sided (the default, real signals only).
 */
registerOp('STFT', async ([signal, stepT, window, lengthT], ctx) => {
  const x = signal!;
  if (x.rank !== 3) unsupported(ctx, `a signal of shape [${x.shape.join(',')}] (expected [batch, length, 1|2])`);
  const step = (await hostInts(stepT!))[0]!;
  const frameLength = lengthT ? (await hostInts(lengthT))[0]! : window ? window.shape[0]! : x.shape[1]!;
  if (window && (window.rank !== 1 || window.shape[0] !== frameLength)) unsupported(ctx, `a window of shape [${window.shape.join(',')}] with frame_length ${frameLength}`);
  if (!(step > 0) || !(frameLength > 0) || frameLength > x.shape[1]!) unsupported(ctx, `frame_step ${step} and frame_length ${frameLength} on a signal of ${x.shape[1]} samples`);
  const frames = Math.floor((x.shape[1]! - frameLength) / step) + 1;
  const index = Array.from({ length: frames * frameLength }, (_, i) => Math.floor(i / frameLength) * step + (i % frameLength));
  // [batch, frames, frame_length, 1|2]
  let framed = T.gather(x, T.tensor(index, [frames, frameLength], 'int64', { backend: x.backend }), 1);
  if (window) framed = T.mul(framed, T.reshape(window.dtype === x.dtype ? window : T.cast(window, x.dtype), [frameLength, 1]));
  return [dft(framed, 2, { onesided: ctx.int('onesided', 1) === 1 })];
});
