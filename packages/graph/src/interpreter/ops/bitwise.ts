import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { unsupported } from './util.js';

/**
 * BitwiseAnd/Or/Xor/Not (opset 18) and BitShift (opset 11): integer bit work on the host, with
 * numpy broadcasting; results keep the input dtype (typed arrays wrap as the C types do) and
 * go to the node's backend.
 */
const INT_DTYPES = new Set<T.DType>(['int8', 'uint8', 'int32', 'int64']);

type NumOp = (a: number, b: number) => number;
type BigOp = (a: bigint, b: bigint) => bigint;

async function binary(a: Tensor, b: Tensor, ctx: OpContext, num: NumOp, big: BigOp): Promise<Tensor> {
  if (a.dtype !== b.dtype || !INT_DTYPES.has(a.dtype)) unsupported(ctx, `inputs of dtypes ${a.dtype} and ${b.dtype}`);
  const shape = T.broadcastShapes(a.shape, b.shape);
  const x = await T.contiguous(T.expand(a, shape)).data();
  const y = await T.contiguous(T.expand(b, shape)).data();
  const out = new (x.constructor as new (n: number) => typeof x)(x.length);
  if (out instanceof BigInt64Array) for (let i = 0; i < out.length; i++) out[i] = BigInt.asIntN(64, big((x as BigInt64Array)[i]!, (y as BigInt64Array)[i]!));
  else for (let i = 0; i < out.length; i++) (out as Int32Array)[i] = num((x as Int32Array)[i]!, (y as Int32Array)[i]!);
  return T.tensor(out as T.StorageArray, shape, a.dtype, { backend: ctx.backend });
}

const ops: Record<string, [NumOp, BigOp]> = {
  BitwiseAnd: [(a, b) => a & b, (a, b) => a & b],
  BitwiseOr: [(a, b) => a | b, (a, b) => a | b],
  BitwiseXor: [(a, b) => a ^ b, (a, b) => a ^ b],
};
for (const [op, [num, big]] of Object.entries(ops)) registerOp(op, async ([a, b], ctx) => [await binary(a!, b!, ctx, num, big)]);

registerOp('BitwiseNot', async ([x], ctx) => [await binary(x!, x!, ctx, (a) => ~a, (a) => ~a)]);

registerOp('BitShift', async ([a, b], ctx) => {
  const dir = ctx.string('direction', '');
  if (dir !== 'LEFT' && dir !== 'RIGHT') unsupported(ctx, `direction '${dir}'`);
  if (a!.dtype !== 'uint8') unsupported(ctx, `${a!.dtype} inputs (BitShift takes unsigned integers; Whittle computes uint8 of them)`);
  // shifts of the type's width or more give 0 (uint8 values never reach bit 32)
  const num: NumOp = dir === 'LEFT' ? (x, s) => (s >= 8 ? 0 : x << s) : (x, s) => (s >= 8 ? 0 : x >>> s);
  return [await binary(a!, b!, ctx, num, (x) => x)];
});
