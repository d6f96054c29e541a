import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/** ONNX ConstantOfShape: fill the given shape with the one-element `value` (default float32 0). */
registerOp('ConstantOfShape', async ([shapeT], ctx) => {
  const shape = await hostInts(shapeT!);
  const v = ctx.tensorAttr('value');
  const value = v ? (await v.toFloat64())[0]! : 0;
  return [T.full(shape, value, v?.dtype ?? 'float32', { backend: ctx.backend })];
});
