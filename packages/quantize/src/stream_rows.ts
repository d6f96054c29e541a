/**
 * Reading streamed weights for the MatMulNBits kernel, float32 or float16, and writing their
 * scales in the weight's type. A float16 weight is read a band of half floats at a time into one
 * small buffer and decoded into the float32 band the kernel takes (no float32 copy of the weight),
 * so it is quantized by the same arithmetic as the in-memory `quantize-weights` pass, which decodes
 * float16 weights to float32 too; its scales are the float32 scales rounded to float16, as that
 * pass writes them.
 */
import { type RawTensor, type TensorStreamIO, throwIfAborted } from '@whittle/graph';
import { float32BitsToFloat16 } from '@whittle/tensor';
import { decodeFloat16Bits } from '@whittle/tensor/float16';

/** Element types the streaming quantizer takes. */
export type StreamFloatType = 'float32' | 'float16';

/** Whether the streaming quantizer takes an unloaded tensor of this type. */
export function isStreamFloat(t: RawTensor): t is RawTensor & { dataType: StreamFloatType } {
  return t.dataType === 'float32' || t.dataType === 'float16';
}

/** Bytes of one element of a streamed float weight. */
export function streamElemBytes(t: RawTensor): 2 | 4 {
  return t.dataType === 'float16' ? 2 : 4;
}

/** Band loaders and float16 scales of one streaming pass, sharing their scratch buffers. */
export interface StreamRows {
  /**
   * Loader of rows r0 .. r0+rows-1 of the unloaded 2-D weight `t` (`width` elements a row) as
   * float32 bytes into `into` (4-byte aligned, rows · width · 4 bytes).
   */
  loader(t: RawTensor, name: string, width: number): (r0: number, rows: number, into: Uint8Array) => void;
  /** The bytes to write for `scales` of a weight of type `type`: float32 as they are, float16 rounded (valid until the next call). */
  scaleBytes(scales: Float32Array, type: StreamFloatType): Uint8Array;
}

/** {@link StreamRows} reading through `io`; every load checks `signal`. */
export function streamRows(io: TensorStreamIO, signal: AbortSignal | undefined): StreamRows {
  // half floats of one band and float16 scales of one weight: grown to the largest, reused
  let bits = new Uint16Array(0);
  let half = new Uint16Array(0);
  return {
    loader(t, name, width) {
      const ext = t.external!;
      const elem = streamElemBytes(t);
      return (r0, rows, into) => {
        throwIfAborted(signal, 'quantizeWeightsStreaming');
        const n = rows * width;
        const part: RawTensor = { ...t, external: { ...ext, offset: ext.offset + r0 * width * elem, length: n * elem } };
        if (elem === 4) {
          io.load(part, name, into);
          return;
        }
        if (bits.length < n) bits = new Uint16Array(n);
        io.load(part, name, new Uint8Array(bits.buffer, 0, n * 2));
        decodeFloat16Bits(bits.subarray(0, n), new Uint32Array(into.buffer, into.byteOffset, n));
      };
    },
    scaleBytes(scales, type) {
      if (type === 'float32') return new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength);
      if (half.length < scales.length) half = new Uint16Array(scales.length);
      const out = half.subarray(0, scales.length);
      float32BitsToFloat16(new Uint32Array(scales.buffer, scales.byteOffset, scales.length), out);
      return new Uint8Array(out.buffer, 0, out.byteLength);
    },
  };
}
