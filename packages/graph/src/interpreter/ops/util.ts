import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import type { OpContext } from '../context.js';
import { UnsupportedOpError } from '../errors.js';

/**
 * Helpers shared by the op files: reading small shape-like inputs on the host, axes, constants
 * on the node's backend.
 */

/** The integer values of a small shape-like tensor (int64 → number), read on the host. */
export async function hostInts(t: Tensor): Promise<number[]> {
  const d = await t.data();
  if (d instanceof BigInt64Array) {
    return Array.from(d, (v) => (v > 9007199254740991n ? Number.MAX_SAFE_INTEGER : v < -9007199254740991n ? -Number.MAX_SAFE_INTEGER : Number(v)));
  }
  return Array.from(await t.toFloat64(), (v) => Math.trunc(v));
}

/** The values of a small tensor as float64 numbers. */
export async function hostFloats(t: Tensor): Promise<number[]> {
  return Array.from(await t.toFloat64());
}

/** An optional ints input (present and non-empty name) or, for older opsets, an ints attribute. */
export async function intsInputOrAttr(input: Tensor | undefined, ctx: OpContext, attr: string, inputSince: number): Promise<number[] | undefined> {
  if (ctx.opset >= inputSince) return input ? hostInts(input) : undefined;
  return ctx.ints(attr) ?? (input ? hostInts(input) : undefined);
}

/** Normalize a possibly negative axis. */
export function axis(a: number, rank: number, ctx: OpContext): number {
  return T.normalizeAxis(a, rank, `${ctx.node.opType} ${ctx.node.name}`);
}

/** A scalar of x's dtype on x's backend. */
export function scalarLike(x: Tensor, v: number): Tensor {
  return T.full([], v, x.dtype, { backend: x.backend });
}

/** Throw UnsupportedOpError naming the node and what is not supported. */
export function unsupported(ctx: OpContext, what: string): never {
  throw new UnsupportedOpError(`node ${ctx.node.name || '(unnamed)'} (${ctx.node.opType}): ${what} is not supported by the interpreter`);
}

/** Spatial pads [begins..., ends...] for auto_pad SAME_UPPER / SAME_LOWER / VALID / NOTSET. */
export function resolveAutoPad(ctx: OpContext, spatial: readonly number[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): number[] {
  const n = spatial.length;
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return new Array<number>(2 * n).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i]!;
    }
    return pads;
  }
  return ctx.ints('pads') ?? new Array<number>(2 * n).fill(0);
}

/** Product of dims. */
export const prod = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);
