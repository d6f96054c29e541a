import { type DType, type StorageArray, type Tensor, allocStorage, isPacked, readElement, tensor, writeElement } from '@whittle/tensor';

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export const sizeOfShape = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A cpu tensor of `dtype` from storage. */
export function cpuTensor(values: StorageArray, shape: readonly number[], dtype: DType): Tensor {
  return tensor(values, [...shape], dtype, { backend: 'cpu' });
}

/**
 * Build a tensor whose element i is element `source(i)` of `t` (exact copy of storage values:
 * int64, float16 bits and packed types are preserved).
 */
export function remap(t: Tensor, shape: readonly number[], source: (i: number) => number): Tensor {
  const src = t.dataSync();
  const n = sizeOfShape(shape);
  const out = allocStorage(t.dtype, n);
  if (isPacked(t.dtype)) {
    for (let i = 0; i < n; i++) writeElement(t.dtype, out, i, readElement(t.dtype, src, source(i)));
  } else {
    const o = out as unknown as { [k: number]: number | bigint };
    const s = src as unknown as { [k: number]: number | bigint };
    for (let i = 0; i < n; i++) o[i] = s[source(i)]!;
  }
  return cpuTensor(out, shape, t.dtype);
}

/** Same elements, new shape (Reshape/Flatten/Squeeze/Unsqueeze/Identity). */
export function withShape(t: Tensor, shape: readonly number[]): Tensor {
  return remap(t, shape, (i) => i);
}

/**
 * For an output shape and an input shape broadcast to it, a function mapping the flat output
 * index to the flat input index.
 */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[]): (i: number) => number {
  const r = outShape.length;
  const pad = r - inShape.length;
  const inStrides = stridesOf(inShape);
  const outStrides = stridesOf(outShape);
  const eff = outShape.map((_, k) => (k < pad || inShape[k - pad] === 1 ? 0 : inStrides[k - pad]!));
  return (i: number) => {
    let j = 0;
    let rem = i;
    for (let k = 0; k < r; k++) {
      const q = Math.floor(rem / outStrides[k]!);
      rem -= q * outStrides[k]!;
      j += q * eff[k]!;
    }
    return j;
  };
}

/** Numpy broadcast of numeric shapes; undefined when incompatible. */
export function broadcastNumeric(shapes: readonly (readonly number[])[]): number[] | undefined {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(r).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = r - s.length + i;
      const d = s[i]!;
      if (out[k] === 1) out[k] = d;
      else if (d !== 1 && d !== out[k]) return undefined;
    }
  }
  return out;
}

/** Store float64 results as `dtype` (int64 clamped to its range, ints truncated). */
export function fromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
  const out = allocStorage(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    if (dtype === 'int64') v = Math.min(Math.max(v, -(2 ** 63)), 2 ** 63 - 1024);
    writeElement(dtype, out, i, v);
  }
  return cpuTensor(out, shape, dtype);
}

/**
 * Build a tensor whose element i is element `j` of `sources[k]` where `[k, j] = pick(i)` (exact
 * storage copy; all sources share `dtype`).
 */
export function assemble(sources: Tensor[], shape: readonly number[], pick: (i: number) => [number, number]): Tensor {
  const dtype = sources[0]!.dtype;
  const srcs = sources.map((t) => t.dataSync());
  const n = sizeOfShape(shape);
  const out = allocStorage(dtype, n);
  const o = out as unknown as { [k: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    const [k, j] = pick(i);
    if (isPacked(dtype)) writeElement(dtype, out, i, readElement(dtype, srcs[k]!, j));
    else o[i] = (srcs[k] as unknown as { [k: number]: number | bigint })[j]!;
  }
  return cpuTensor(out, shape, dtype);
}
