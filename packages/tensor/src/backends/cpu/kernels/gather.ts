import type { KernelConfig } from '../../../backend.js';
import { ArgumentError } from '../../../errors.js';
import { contiguousStrides, sizeOf } from '../../../shape.js';
import type { CpuBackend } from '../backend.js';
import { axisDims, encodeNumbers, numericStorage } from './numeric.js';

/** Resolve a possibly negative index against `size`, throwing a typed error when out of range. */
export function checkIndex(where: string, j: number, size: number, axis: number): number {
  const k = j < 0 ? j + size : j;
  if (!(k >= 0 && k < size)) throw new ArgumentError(`${where}: index ${j} is out of range for axis ${axis} of size ${size}`);
  return k;
}

/** Gather(axis): out[o, k, i] = x[o, indices[k], i]. */
export const gatherKernel: KernelConfig<CpuBackend, 'Gather'> = {
  name: 'Gather',
  backend: 'cpu',
  run([x, ind], attrs, backend) {
    const axis = attrs.axis;
    const { outer, d, inner } = axisDims(x!.shape, axis);
    const xv = numericStorage(x!);
    const iv = numericStorage(ind!);
    const n = sizeOf(ind!.shape);
    const out = new Float64Array(outer * n * inner);
    for (let k = 0; k < n; k++) {
      const j = checkIndex('gather', iv[k]!, d, axis);
      for (let o = 0; o < outer; o++) {
        const src = (o * d + j) * inner;
        const dst = (o * n + k) * inner;
        for (let i = 0; i < inner; i++) out[dst + i] = xv[src + i]!;
      }
    }
    const shape = [...x!.shape.slice(0, axis), ...ind!.shape, ...x!.shape.slice(axis + 1)];
    return [backend.output(x!.dtype, shape, encodeNumbers(x!.dtype, out))];
  },
};

/** Call fn(indexPos, dataPos) over every element of `indShape`, data position with axis replaced. */
export function forEachElementIndex(
  where: string,
  indShape: readonly number[],
  dataShape: readonly number[],
  axis: number,
  iv: ArrayLike<number>,
  fn: (p: number, q: number) => void,
): void {
  const rank = indShape.length;
  const ds = contiguousStrides(dataShape);
  const n = sizeOf(indShape);
  const c = new Array<number>(rank).fill(0);
  for (let p = 0; p < n; p++) {
    let q = 0;
    for (let d = 0; d < rank; d++) q += (d === axis ? checkIndex(where, iv[p]!, dataShape[d]!, axis) : c[d]!) * ds[d]!;
    fn(p, q);
    for (let d = rank - 1; d >= 0; d--) {
      if (++c[d]! < indShape[d]!) break;
      c[d] = 0;
    }
  }
}

/** GatherElements(axis): out[p] = x[p with coordinate `axis` replaced by indices[p]]. */
export const gatherElementsKernel: KernelConfig<CpuBackend, 'GatherElements'> = {
  name: 'GatherElements',
  backend: 'cpu',
  run([x, ind], attrs, backend) {
    const xv = numericStorage(x!);
    const out = new Float64Array(sizeOf(ind!.shape));
    forEachElementIndex('gatherElements', ind!.shape, x!.shape, attrs.axis, numericStorage(ind!), (p, q) => {
      out[p] = xv[q]!;
    });
    return [backend.output(x!.dtype, ind!.shape, encodeNumbers(x!.dtype, out))];
  },
};

/** ScatterElements(axis, reduction none|add): a copy of data with updates written/added at indices. */
export const scatterElementsKernel: KernelConfig<CpuBackend, 'ScatterElements'> = {
  name: 'ScatterElements',
  backend: 'cpu',
  run([data, ind, upd], attrs, backend) {
    const out = Float64Array.from(numericStorage(data!) as ArrayLike<number>).subarray(0, sizeOf(data!.shape));
    const uv = numericStorage(upd!);
    const add = attrs.reduction === 'add';
    forEachElementIndex('scatterElements', ind!.shape, data!.shape, attrs.axis, numericStorage(ind!), (p, q) => {
      out[q] = add ? out[q]! + uv[p]! : uv[p]!;
    });
    return [backend.output(data!.dtype, data!.shape, encodeNumbers(data!.dtype, out))];
  },
};

export const gatherCpuKernels: KernelConfig<CpuBackend>[] = [gatherKernel, gatherElementsKernel, scatterElementsKernel];
