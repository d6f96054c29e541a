import { getInt, getInts, isRawTensor } from '../../ir/attributes.js';
import { tensorValues } from '../../ir/dtypes.js';
import type { Dim } from '../../ir/types.js';
import { dimProduct, normAxis } from './dims.js';
import { type OutInfo, type RuleContext, registerShapeRule, registerShapeRules } from './rule.js';

registerShapeRule('Concat', (c) => {
  const shapes = c.node.inputs.map((_, i) => (c.has(i) ? c.shape(i) : []));
  const axis0 = getInt(c.node, 'axis', 0);
  const elem = c.elem(0);
  const known = shapes.filter((s): s is readonly Dim[] => !!s && s !== undefined);
  const first = known[0];
  if (!first || known.length !== shapes.length) return [{ elem, shape: first?.map(() => null) }];
  const rank = first.length;
  const axis = normAxis(axis0, rank) ?? c.fail(`axis ${axis0} out of range for rank ${rank}`);
  const out: Dim[] = [...first];
  let sum: Dim = 0;
  for (const s of known) {
    if (s.length !== rank) c.fail(`inputs have different ranks (${rank} and ${s.length})`);
    const d = s[axis]!;
    sum = typeof sum === 'number' && typeof d === 'number' ? sum + d : null;
    s.forEach((d2, i) => {
      if (i === axis) return;
      if (typeof out[i] === 'number' && typeof d2 === 'number' && out[i] !== d2) {
        c.fail(`dim ${i} differs between inputs (${String(out[i])} vs ${d2})`);
      }
      if (typeof out[i] !== 'number' && d2 !== null) out[i] = d2;
    });
  }
  out[axis] = sum;
  let data: Dim[] | undefined;
  if (rank === 1) {
    const parts = c.node.inputs.map((_, i) => c.data(i));
    if (parts.every((p) => p)) data = parts.flatMap((p) => p!);
  }
  return [{ elem, shape: out, data }];
});

registerShapeRule('Gather', (c) => {
  const x = c.shape(0);
  const idx = c.shape(1);
  if (!x || !idx) return [{ elem: c.elem(0) }];
  const axis0 = getInt(c.node, 'axis', 0);
  const axis = normAxis(axis0, x.length) ?? c.fail(`axis ${axis0} out of range for rank ${x.length}`);
  let data: Dim[] | undefined;
  const d = c.data(0);
  const ii = c.ints(1);
  if (d && ii && x.length === 1) data = ii.map((i) => d[i < 0 ? i + d.length : i] ?? null);
  return [{ elem: c.elem(0), shape: [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)], data }];
});

/** Clamp a slice bound as ONNX does. */
function sliceLen(dim: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

registerShapeRule('Slice', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const old = c.opset < 10;
  const starts = old ? getInts(c.node, 'starts') : c.ints(1);
  const ends = old ? getInts(c.node, 'ends') : c.ints(2);
  const axes = (old ? getInts(c.node, 'axes') : c.has(3) ? c.ints(3) : undefined) ?? (starts ? starts.map((_, i) => i) : undefined);
  const steps = (old ? undefined : c.has(4) ? c.ints(4) : undefined) ?? (starts ? starts.map(() => 1) : undefined);
  if (!starts || !ends || !axes || !steps || (!old && ((c.has(3) && !c.ints(3)) || (c.has(4) && !c.ints(4))))) {
    return [{ elem: c.elem(0), shape: x.map(() => null) }];
  }
  const out: Dim[] = [...x];
  axes.forEach((a0, j) => {
    const a = normAxis(a0, x.length) ?? c.fail(`slice axis ${a0} out of range for rank ${x.length}`);
    const d = x[a]!;
    const st = steps[j]!;
    if (st === 0) c.fail('slice step cannot be 0');
    if (typeof d === 'number') out[a] = sliceLen(d, starts[j]!, ends[j]!, st);
    else out[a] = starts[j] === 0 && st === 1 && ends[j]! >= 2 ** 31 - 1 ? d : null;
  });
  let data: Dim[] | undefined;
  const d = c.data(0);
  if (d && x.length === 1 && typeof out[0] === 'number') {
    const st = steps[0]!;
    let s = starts[0]! < 0 ? starts[0]! + d.length : starts[0]!;
    s = st > 0 ? Math.min(Math.max(s, 0), d.length) : Math.min(Math.max(s, -1), d.length - 1);
    data = [];
    for (let k = 0; k < out[0]; k++) data.push(d[s + k * st] ?? null);
  }
  return [{ elem: c.elem(0), shape: out, data }];
});

registerShapeRule('Split', (c) => {
  const x = c.shape(0);
  const n = c.node.outputs.length;
  if (!x) return c.node.outputs.map(() => ({ elem: c.elem(0) }));
  const axis0 = getInt(c.node, 'axis', 0);
  const axis = normAxis(axis0, x.length) ?? c.fail(`axis ${axis0} out of range for rank ${x.length}`);
  const d = x[axis]!;
  let sizes = getInts(c.node, 'split') ?? (c.has(1) ? c.ints(1) : undefined);
  if (!sizes && typeof d === 'number') {
    const chunk = Math.ceil(d / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
  }
  return c.node.outputs.map((_, i) => {
    const s = [...x];
    s[axis] = sizes?.[i] ?? null;
    return { elem: c.elem(0), shape: s };
  });
});

registerShapeRule('Shape', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: 'int64', shape: [null] }];
  const r = x.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clamp(getInt(c.node, 'start', 0));
  const end = clamp(getInt(c.node, 'end', r));
  const data = x.slice(start, Math.max(start, end));
  return [{ elem: 'int64', shape: [data.length], data: [...data] }];
});

registerShapeRule('Size', (c) => {
  const x = c.shape(0);
  const n = x ? dimProduct(x) : null;
  return [{ elem: 'int64', shape: [], data: [n] }];
});

registerShapeRule('ConstantOfShape', (c) => {
  const v = c.node.attributes.get('value');
  const elem = v?.type === 'tensor' ? (isRawTensor(v.value) ? v.value.dataType : v.value.dtype) : 'float32';
  const s = c.data(0);
  const len = c.shape(0)?.[0];
  return [{ elem, shape: s ?? (typeof len === 'number' ? new Array<Dim>(len).fill(null) : undefined) }];
});

registerShapeRule('Constant', (c) => {
  const a = [...c.node.attributes.values()][0];
  if (!a) return [undefined];
  switch (a.type) {
    case 'tensor':
      if (isRawTensor(a.value)) return [{ elem: a.value.dataType, shape: a.value.dims }];
      return [{
        elem: a.value.dtype,
        shape: a.value.shape,
        data: a.value.size <= 64 && a.value.rank <= 1 && a.value.backend === 'cpu' ? Array.from(tensorValues(a.value)) : undefined,
      }];
    case 'float':
      return [{ elem: 'float32', shape: [] }];
    case 'floats':
      return [{ elem: 'float32', shape: [a.value.length] }];
    case 'int':
      return [{ elem: 'int64', shape: [], data: [a.value] }];
    case 'ints':
      return [{ elem: 'int64', shape: [a.value.length], data: [...a.value] }];
    case 'string':
      return [{ elem: 'string', shape: [] }];
    case 'strings':
      return [{ elem: 'string', shape: [a.value.length] }];
    default:
      return [undefined];
  }
});

function reduce(c: RuleContext, axesFromInput: boolean, elem = c.elem(0)): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ elem }];
  const keep = getInt(c.node, 'keepdims', 1) !== 0;
  let axes = getInts(c.node, 'axes');
  if (!axes && axesFromInput && c.has(1)) {
    axes = c.ints(1);
    if (!axes) return [{ elem, shape: keep ? x.map(() => null) : undefined }];
  }
  if (!axes || axes.length === 0) {
    if (getInt(c.node, 'noop_with_empty_axes', 0)) return [{ elem, shape: x }];
    axes = x.map((_, i) => i);
  }
  const set = new Set(axes.map((a) => normAxis(a, x.length) ?? c.fail(`axis ${a} out of range for rank ${x.length}`)));
  const out: Dim[] = [];
  x.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return [{ elem, shape: out }];
}

const REDUCE = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];
registerShapeRules(REDUCE, (c) => reduce(c, c.node.opType === 'ReduceSum' ? c.opset >= 13 : c.opset >= 18));
registerShapeRules(['ArgMax', 'ArgMin'], (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: 'int64' }];
  const axis0 = getInt(c.node, 'axis', 0);
  const axis = normAxis(axis0, x.length) ?? c.fail(`axis ${axis0} out of range for rank ${x.length}`);
  const keep = getInt(c.node, 'keepdims', 1) !== 0;
  const out: Dim[] = [];
  x.forEach((d, i) => (i !== axis ? out.push(d) : keep ? out.push(1) : undefined));
  return [{ elem: 'int64', shape: out }];
});

registerShapeRule('TopK', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }, { elem: 'int64' }];
  const axis = normAxis(getInt(c.node, 'axis', -1), x.length) ?? c.fail('TopK axis out of range');
  const k = c.opset >= 10 ? c.ints(1)?.[0] : getInt(c.node, 'k');
  const s = [...x];
  s[axis] = k ?? null;
  return [{ elem: c.elem(0), shape: s }, { elem: 'int64', shape: s }];
});

registerShapeRule('QuantizeLinear', (c) => {
  const code = getInt(c.node, 'output_dtype', 0);
  const elem = c.has(2) ? c.elem(2) : code ? undefined : 'uint8';
  const CODES: Record<number, OutInfo['elem']> = { 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 21: 'uint4', 22: 'int4', 25: 'uint2', 26: 'int2', 17: 'float8e4m3fn', 19: 'float8e5m2' };
  return [{ elem: elem ?? CODES[code], shape: c.shape(0) }];
});
registerShapeRule('DequantizeLinear', (c) => [{ elem: c.elem(1) ?? 'float32', shape: c.shape(0) }]);
registerShapeRule('DynamicQuantizeLinear', (c) => [
  { elem: 'uint8', shape: c.shape(0) },
  { elem: 'float32', shape: [] },
  { elem: 'uint8', shape: [] },
]);

registerShapeRule('Range', (c) => {
  const [s, l, d] = [c.ints(0), c.ints(1), c.ints(2)];
  const n = s && l && d && d[0] ? Math.max(0, Math.ceil((l[0]! - s[0]!) / d[0])) : null;
  return [{ elem: c.elem(0), shape: [n] }];
});

registerShapeRule('Resize', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const sizes = c.has(3) ? c.ints(3) : undefined;
  if (sizes && sizes.length === x.length) return [{ elem: c.elem(0), shape: sizes }];
  const scales = c.has(2) ? c.data(2) : undefined;
  return [{ elem: c.elem(0), shape: x.map((d, i) => {
    const s = scales?.[i];
    return typeof d === 'number' && typeof s === 'number' ? Math.floor(d * s) : s === 1 ? d : null;
  }) }];
});
