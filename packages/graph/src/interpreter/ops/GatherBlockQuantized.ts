import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { axis, unsupported } from './util.js';
import { badInput } from './contrib_util.js';
import { packedZeroPoints } from '../../ir/packed_codes.js';

/**
 * com.microsoft GatherBlockQuantized: Gather over a block-quantized table. `data` is int4/uint4
 * (zero point default 0) or uint8 holding 8/bits codes per byte, low bits first (zero point
 * default 2^(bits-1), as MatMulNBits); with uint8 data the quantize axis is the last one and the
 * gather axis 0, the logical last dimension is the stored one times 8/bits. `scales` has data's
 * rank with ceil(dim / block_size) along quantize_axis; zero points are scales-shaped — packed
 * along quantize_axis for uint8 with bits < 8, packed two per byte over the flat index for int4.
 * The table is dequantized once on the host (cached per data tensor), then gathered on the
 * node's backend. Indices outside the table are refused, as onnxruntime refuses them.
 */
const cache = new WeakMap<Tensor, Map<string, Tensor>>();

async function dequantizeTable(data: Tensor, scales: Tensor, zp: Tensor | undefined, ctx: OpContext, qAxisAttr: number): Promise<Tensor> {
  const bits = ctx.int('bits', 4);
  const bs = ctx.int('block_size', 128);
  if (bs < 16 || (bs & (bs - 1)) !== 0) throw badInput(ctx, `block_size ${bs} must be a power of 2, at least 16`);
  const packedU8 = data.dtype === 'uint8';
  if (packedU8 ? ![2, 4, 8].includes(bits) : bits !== 4) unsupported(ctx, `bits = ${bits} with ${data.dtype} data`);
  if (!packedU8 && data.dtype !== 'int4' && data.dtype !== 'uint4') unsupported(ctx, `${data.dtype} data`);
  const rank = data.rank;
  const qAxis = axis(qAxisAttr, rank, ctx);
  const per = packedU8 ? 8 / bits : 1;
  if (packedU8 && qAxis !== rank - 1) throw badInput(ctx, `with uint8 data quantize_axis must be the last axis, got ${qAxisAttr}`);
  const shape = data.shape.map((d, i) => (i === rank - 1 ? d * per : d));
  if (scales.rank !== rank) throw badInput(ctx, `scales have rank ${scales.rank}, data rank ${rank}`);
  const qDim = shape[qAxis]!;
  const nBlocks = Math.ceil(qDim / bs);
  shape.forEach((d, i) => {
    const want = i === qAxis ? nBlocks : d;
    if (scales.shape[i] !== want) throw badInput(ctx, `scales [${scales.shape.join(',')}] do not fit data of logical shape [${shape.join(',')}] with block_size ${bs} on axis ${qAxis}`);
  });
  const inner = shape.slice(qAxis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, qAxis).reduce((a, b) => a * b, 1);
  const size = outer * qDim * inner;
  const mask = (1 << bits) - 1;
  const bytes = packedU8 ? ((await data.data()) as Uint8Array) : undefined;
  const vals = packedU8 ? undefined : await data.toFloat64();
  const code = (i: number): number => (bytes ? (bytes[Math.floor(i / per)]! >> ((i % per) * bits)) & mask : vals![i]!);
  const sc = await scales.toFloat64();
  let zpAt: (s: number) => number = () => (packedU8 ? 1 << (bits - 1) : 0);
  if (zp) {
    if (zp.dtype !== data.dtype) throw badInput(ctx, `zero_points are ${zp.dtype}, data is ${data.dtype}`);
    if (packedU8) {
      const at = packedZeroPoints((await zp.data()) as Uint8Array, bits, nBlocks);
      zpAt = (s) => at(Math.floor(s / nBlocks), s % nBlocks);
    } else {
      const z = await zp.toFloat64();
      zpAt = (s) => z[s]!;
    }
  }
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const x = Math.floor(i / (qDim * inner));
    const y = Math.floor((i % (qDim * inner)) / inner);
    const s = x * nBlocks * inner + Math.floor(y / bs) * inner + (i % inner);
    out[i] = Math.fround((code(i) - zpAt(s)) * sc[s]!);
  }
  const t = T.tensor(out, shape, 'float32', { backend: ctx.backend });
  return scales.dtype === 'float32' ? t : T.cast(t, scales.dtype);
}

registerOp(
  'GatherBlockQuantized',
  async ([data, indices, scales, zp], ctx) => {
    const gAxis = axis(ctx.int('gather_axis', 0), data!.rank, ctx);
    const qAxisAttr = ctx.int('quantize_axis', 1);
    if (data!.dtype === 'uint8' && gAxis !== 0) throw badInput(ctx, `with uint8 data gather_axis must be 0, got ${gAxis}`);
    let per = cache.get(data!);
    if (!per) cache.set(data!, (per = new Map()));
    const key = `${ctx.node.name}|${ctx.backend}|${scales!.dtype}`;
    let table = per.get(key);
    if (!table) per.set(key, (table = await dequantizeTable(data!, scales!, zp, ctx, qAxisAttr)));
    // onnxruntime refuses indices outside [-dim, dim); so does this (the webgpu gather could not)
    const dim = table.shape[gAxis]!;
    const bad = Array.from(await indices!.toFloat64()).find((v) => v < -dim || v >= dim);
    if (bad !== undefined) throw badInput(ctx, `index ${bad} is outside [${-dim}, ${dim - 1}]`);
    return [T.gather(table, indices!, gAxis)];
  },
  'com.microsoft',
);
