import type { KernelConfig } from '../../../backend.js';
import { type StorageArray, allocStorage } from '../../../dtype.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';

/**
 * Where(cond, a, b): `cond ? a : b` with 3-way numpy broadcasting, any input strides. Copies
 * storage slots, so it works for every non-packed dtype (float16 bits, int64 BigInts) as is.
 */
export const whereKernel: KernelConfig<CpuBackend, 'Where'> = {
  name: 'Where',
  backend: 'cpu',
  strided: true,
  run([c, a, b], _attrs, backend) {
    const shape = broadcastShapes(c!.shape, a!.shape, b!.shape);
    const size = sizeOf(shape);
    const dtype = a!.dtype;
    const out = allocStorage(dtype, size) as Float32Array;
    const cv = cpuValues<Uint8Array>(c!);
    const av = cpuValues(a!);
    const bv = cpuValues(b!);
    const rank = shape.length;
    const sc = broadcastStrides(c!.shape, c!.strides, shape);
    const sa = broadcastStrides(a!.shape, a!.strides, shape);
    const sb = broadcastStrides(b!.shape, b!.strides, shape);
    const idx = new Array<number>(rank).fill(0);
    let pc = c!.offset;
    let pa = a!.offset;
    let pb = b!.offset;
    for (let o = 0; o < size; o++) {
      out[o] = cv[pc] ? av[pa]! : bv[pb]!;
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        pc += sc[d]!;
        pa += sa[d]!;
        pb += sb[d]!;
        if (idx[d]! < shape[d]!) break;
        pc -= sc[d]! * shape[d]!;
        pa -= sa[d]! * shape[d]!;
        pb -= sb[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
    return [backend.output(dtype, shape, out as StorageArray)];
  },
};
