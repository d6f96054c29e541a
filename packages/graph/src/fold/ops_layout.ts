import type { Tensor } from '@whittle/tensor';
import { getInt, getInts, isRawTensor } from '../ir/attributes.js';
import { tensorInts, tensorValues } from '../ir/dtypes.js';
import { assemble, broadcastIndex, broadcastNumeric, fromValues, remap, sizeOfShape, stridesOf, withShape } from './layout.js';
import type { FoldKernel } from './ops_math.js';

const norm = (a: number, r: number): number => (a < 0 ? a + r : a);

/** Unravel a flat index into coordinates. */
function coords(i: number, strides: number[]): number[] {
  const c = new Array<number>(strides.length);
  for (let k = 0; k < strides.length; k++) {
    c[k] = Math.floor(i / strides[k]!);
    i -= c[k]! * strides[k]!;
  }
  return c;
}

function axesArg(n: Parameters<FoldKernel>[0], t: Tensor | undefined): number[] | undefined {
  return getInts(n, 'axes') ?? (t ? tensorInts(t) : undefined);
}

export const LAYOUT_KERNELS: Record<string, FoldKernel> = {
  Identity: (_n, [x]) => (x ? [withShape(x, x.shape)] : undefined),
  Reshape: (n, [x, s]) => {
    if (!x || !s) return undefined;
    const allowZero = getInt(n, 'allowzero', 0) !== 0;
    const shape = tensorInts(s).map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
    const neg = shape.indexOf(-1);
    if (neg >= 0) shape[neg] = x.size / sizeOfShape(shape.filter((_, i) => i !== neg));
    if (sizeOfShape(shape) !== x.size || !shape.every(Number.isInteger)) return undefined;
    return [withShape(x, shape)];
  },
  Flatten: (n, [x]) => {
    if (!x) return undefined;
    const a = norm(getInt(n, 'axis', 1), x.rank);
    return [withShape(x, [sizeOfShape(x.shape.slice(0, a)), sizeOfShape(x.shape.slice(a))])];
  },
  Squeeze: (n, [x, ax]) => {
    if (!x) return undefined;
    const axes = axesArg(n, ax)?.map((a) => norm(a, x.rank));
    return [withShape(x, x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)))];
  },
  Unsqueeze: (n, [x, ax]) => {
    const axes0 = x ? axesArg(n, ax) : undefined;
    if (!x || !axes0) return undefined;
    const r = x.rank + axes0.length;
    const axes = axes0.map((a) => norm(a, r));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]!);
    return [withShape(x, shape)];
  },
  Transpose: (n, [x]) => {
    if (!x) return undefined;
    const perm = getInts(n, 'perm') ?? x.shape.map((_, i) => x.rank - 1 - i);
    const shape = perm.map((p) => x.shape[p]!);
    const inStrides = stridesOf(x.shape);
    const outStrides = stridesOf(shape);
    return [remap(x, shape, (i) => coords(i, outStrides).reduce((s, c, k) => s + c * inStrides[perm[k]!]!, 0))];
  },
  Concat: (n, xs) => {
    if (xs.some((x) => !x) || xs.length === 0) return undefined;
    const ts = xs as Tensor[];
    const first = ts[0]!;
    const axis = norm(getInt(n, 'axis', 0), first.rank);
    const shape = [...first.shape];
    shape[axis] = ts.reduce((s, t) => s + t.shape[axis]!, 0);
    const inner = sizeOfShape(shape.slice(axis + 1));
    const picks: [number, number][] = [];
    const outer = sizeOfShape(shape.slice(0, axis));
    for (let o = 0; o < outer; o++) {
      ts.forEach((t, k) => {
        const len = t.shape[axis]! * inner;
        for (let j = 0; j < len; j++) picks.push([k, o * len + j]);
      });
    }
    return [assemble(ts, shape, (i) => picks[i]!)];
  },
  Gather: (n, [x, idx]) => {
    if (!x || !idx) return undefined;
    const axis = norm(getInt(n, 'axis', 0), x.rank);
    const ids = tensorInts(idx).map((i) => norm(i, x.shape[axis]!));
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const inner = sizeOfShape(x.shape.slice(axis + 1));
    const nIdx = ids.length;
    const dim = x.shape[axis]!;
    return [remap(x, shape, (i) => {
      const inn = i % inner;
      const rest = (i - inn) / inner;
      const k = rest % nIdx;
      const o = (rest - k) / nIdx;
      return (o * dim + ids[k]!) * inner + inn;
    })];
  },
  Slice: (n, [x, s, e, a, st], opset) => {
    if (!x) return undefined;
    const starts = opset < 10 ? getInts(n, 'starts') : s && tensorInts(s);
    const ends = opset < 10 ? getInts(n, 'ends') : e && tensorInts(e);
    if (!starts || !ends) return undefined;
    const axes = (opset < 10 ? getInts(n, 'axes') : a && tensorInts(a)) ?? starts.map((_, i) => i);
    const steps = (opset < 10 ? undefined : st && tensorInts(st)) ?? starts.map(() => 1);
    const begin = x.shape.map(() => 0);
    const step = x.shape.map(() => 1);
    const shape = [...x.shape];
    axes.forEach((ax, j) => {
      const k = norm(ax, x.rank);
      const d = x.shape[k]!;
      const sp = steps[j]!;
      let b = starts[j]! < 0 ? starts[j]! + d : starts[j]!;
      let en = ends[j]! < 0 ? ends[j]! + d : ends[j]!;
      if (sp > 0) {
        b = Math.min(Math.max(b, 0), d);
        en = Math.min(Math.max(en, 0), d);
      } else {
        b = Math.min(Math.max(b, -1), d - 1);
        en = Math.min(Math.max(en, -1), d - 1);
      }
      begin[k] = b;
      step[k] = sp;
      shape[k] = Math.max(0, Math.ceil((en - b) / sp));
    });
    const inStrides = stridesOf(x.shape);
    const outStrides = stridesOf(shape);
    return [remap(x, shape, (i) => coords(i, outStrides).reduce((acc, c, k) => acc + (begin[k]! + c * step[k]!) * inStrides[k]!, 0))];
  },
  Expand: (_n, [x, s]) => {
    if (!x || !s) return undefined;
    const shape = broadcastNumeric([x.shape, tensorInts(s)]);
    return shape ? [remap(x, shape, broadcastIndex(shape, x.shape))] : undefined;
  },
  Shape: (n, [x]) => {
    if (!x) return undefined;
    const r = x.rank;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = x.shape.slice(clamp(getInt(n, 'start', 0)), clamp(getInt(n, 'end', r)));
    return [fromValues(dims, [dims.length], 'int64')];
  },
  Size: (_n, [x]) => (x ? [fromValues([x.size], [], 'int64')] : undefined),
  ConstantOfShape: (n, [s]) => {
    if (!s) return undefined;
    const shape = tensorInts(s);
    const v = n.attributes.get('value');
    if (v?.type === 'tensor' && isRawTensor(v.value)) return undefined;
    const t = v?.type === 'tensor' && !isRawTensor(v.value) ? v.value : undefined;
    const fill = t ? tensorValues(t)[0]! : 0;
    return [fromValues(new Array<number>(sizeOfShape(shape)).fill(fill), shape, t?.dtype ?? 'float32')];
  },
  Range: (_n, [s, l, d]) => {
    if (!s || !l || !d) return undefined;
    const [a, b, c] = [tensorValues(s)[0]!, tensorValues(l)[0]!, tensorValues(d)[0]!];
    const len = Math.max(0, Math.ceil((b - a) / c));
    return [fromValues(Array.from({ length: len }, (_, i) => a + i * c), [len], s.dtype)];
  },
};
