import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
import { axisDims, encodeNumbers, numericStorage } from './numeric.js';

/** TopK(k, axis, largest): values and int64 indices, sorted, ties broken by the lower index. */
export const topkKernel: KernelConfig<CpuBackend, 'TopK'> = {
  name: 'TopK',
  backend: 'cpu',
  run([x], attrs, backend) {
    const axis = attrs.axis;
    const k = attrs.k;
    const largest = attrs.largest;
    const { outer, d, inner } = axisDims(x!.shape, axis);
    const v = numericStorage(x!);
    const values = new Float64Array(outer * k * inner);
    const indices = new BigInt64Array(outer * k * inner);
    const order = new Array<number>(d);
    const line = new Float64Array(d);
    const sign = largest ? -1 : 1;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * d * inner + i;
        for (let j = 0; j < d; j++) {
          order[j] = j;
          line[j] = v[base + j * inner]!;
        }
        order.sort((a, b) => sign * (line[a]! - line[b]!) || a - b);
        for (let r = 0; r < k; r++) {
          const at = (o * k + r) * inner + i;
          values[at] = line[order[r]!]!;
          indices[at] = BigInt(order[r]!);
        }
      }
    }
    const shape = x!.shape.map((s, ii) => (ii === axis ? k : s));
    return [backend.output(x!.dtype, shape, encodeNumbers(x!.dtype, values)), backend.output('int64', shape, indices)];
  },
};

/** OneHot(depth, axis, off/on values) → float32; out-of-range indices give an all-off line. */
export const oneHotKernel: KernelConfig<CpuBackend, 'OneHot'> = {
  name: 'OneHot',
  backend: 'cpu',
  run([ind], attrs, backend) {
    const depth = attrs.depth;
    const axis = attrs.axis;
    const [off, on] = attrs.values;
    const shape = [...ind!.shape.slice(0, axis), depth, ...ind!.shape.slice(axis)];
    const { outer, inner } = axisDims(shape, axis);
    const iv = numericStorage(ind!);
    const out = new Float32Array(outer * depth * inner).fill(off);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let j = iv[o * inner + i]!;
        if (j < 0) j += depth;
        if (j >= 0 && j < depth) out[(o * depth + j) * inner + i] = on;
      }
    }
    return [backend.output('float32', shape, out)];
  },
};

export const topkCpuKernels: KernelConfig<CpuBackend>[] = [topkKernel, oneHotKernel];
