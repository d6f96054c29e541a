import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { onnxTypeToDType } from './elementwise.js';
import { unsupported } from './util.js';

/**
 * ONNX BitCast (opset 26): the input's bytes read as another element type of the same width,
 * on the host (a reinterpretation, not a conversion); the result goes to the node's backend.
 */
const WIDTH: Partial<Record<T.DType, number>> = { bool: 1, int8: 1, uint8: 1, float16: 2, float32: 4, int32: 4, int64: 8 };

registerOp('BitCast', async ([x], ctx) => {
  const to = onnxTypeToDType(ctx.int('to', 0), ctx.node.name);
  const [from, into] = [WIDTH[x!.dtype], WIDTH[to]];
  if (!from || !into || from !== into) unsupported(ctx, `a cast from ${x!.dtype} to ${to} (Whittle reinterprets bool, int8, uint8, float16, float32, int32 and int64 of one width)`);
  const d = await x!.data();
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  const Ctor = { bool: Uint8Array, int8: Int8Array, uint8: Uint8Array, float16: Uint16Array, float32: Float32Array, int32: Int32Array, int64: BigInt64Array }[to as 'bool'];
  const view = new Ctor(bytes.buffer);
  if (to === 'bool' && view.some((v) => v > 1)) unsupported(ctx, 'bytes other than 0 and 1 read as bool');
  return [T.tensor(view as T.StorageArray, x!.shape, to, { backend: ctx.backend })];
});
