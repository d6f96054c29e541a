import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { onnxTypeToDType } from './elementwise.js';
import { hostInts, unsupported } from './util.js';

/**
 * The window generators HannWindow, HammingWindow and BlackmanWindow (opset 17): `size` samples
 * of a cosine sum over the period N = size (periodic = 1, the default) or size − 1 (symmetric),
 * as onnx's reference computes them, in `output_datatype` (float32 by default).
 */
const windows: Record<string, (n: number, period: number) => number> = {
  HannWindow: (n, p) => Math.sin((Math.PI * n) / p) ** 2,
  HammingWindow: (n, p) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / p),
  BlackmanWindow: (n, p) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / p) + 0.08 * Math.cos((4 * Math.PI * n) / p),
};

async function window(f: (n: number, period: number) => number, sizeT: T.Tensor, ctx: OpContext): Promise<T.Tensor> {
  const size = (await hostInts(sizeT))[0]!;
  if (!(size >= 0)) unsupported(ctx, `a window size of ${size}`);
  const period = ctx.int('periodic', 1) === 1 ? size : size - 1;
  const values = Array.from({ length: size }, (_, n) => f(n, period));
  return T.tensor(values, [size], onnxTypeToDType(ctx.int('output_datatype', 1), ctx.node.name), { backend: ctx.backend });
}

for (const [op, f] of Object.entries(windows)) registerOp(op, async ([size], ctx) => [await window(f, size!, ctx)]);
