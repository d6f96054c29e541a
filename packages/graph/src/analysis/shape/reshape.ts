import { getInt, getInts } from '../../ir/attributes.js';
import type { Dim } from '../../ir/types.js';
import { broadcastShapes, dimProduct, normAxis } from './dims.js';
import { type RuleContext, registerShapeRule } from './rule.js';

registerShapeRule('Reshape', (c) => {
  const x = c.shape(0);
  const target = c.data(1) ?? (c.node.attributes.has('shape') ? getInts(c.node, 'shape') : undefined);
  if (!target) {
    const s = c.shape(1);
    return [{ elem: c.elem(0), shape: s && typeof s[0] === 'number' ? new Array<Dim>(s[0]).fill(null) : undefined }];
  }
  const allowZero = getInt(c.node, 'allowzero', 0) !== 0;
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x ? (x[i] ?? null) : null) : d));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const total = x ? dimProduct(x) : null;
    const rest = dimProduct(out.filter((_, i) => i !== neg));
    if (typeof total === 'number' && typeof rest === 'number') {
      if (rest === 0 || total % rest !== 0) c.fail(`cannot reshape [${x!.join(',')}] to [${target.join(',')}]`);
      out[neg] = total / rest;
    } else out[neg] = x ? symbolicRatio(x, out.filter((_, i) => i !== neg)) : null;
  } else if (x) {
    const a = dimProduct(x);
    const b = dimProduct(out);
    if (typeof a === 'number' && typeof b === 'number' && a !== b) {
      c.fail(`cannot reshape [${x.join(',')}] (${a} elements) to [${out.join(',')}] (${b} elements)`);
    }
  }
  return [{ elem: c.elem(0), shape: out, data: x && out.length <= 1 ? reshapeData(c) : undefined }];
});

/** total(x) / total(rest) when the symbolic dims of both cancel out (e.g. [N,3,4] / [N,2] = 6). */
function symbolicRatio(x: readonly Dim[], rest: readonly Dim[]): Dim {
  const split = (s: readonly Dim[]): { n: number; sym: string[] } | undefined => {
    let n = 1;
    const sym: string[] = [];
    for (const d of s) {
      if (d === null) return undefined;
      if (typeof d === 'number') n *= d;
      else sym.push(d);
    }
    return { n, sym: sym.sort() };
  };
  const a = split(x);
  const b = split(rest);
  if (!a || !b || b.n === 0) return null;
  if (a.sym.join('\u0000') === b.sym.join('\u0000')) return a.n % b.n === 0 ? a.n / b.n : null;
  // one extra symbol in x and the numbers match: the -1 is that symbol
  if (a.sym.length === b.sym.length + 1 && a.n === b.n) {
    const left = [...a.sym];
    for (const s of b.sym) {
      const i = left.indexOf(s);
      if (i < 0) return null;
      left.splice(i, 1);
    }
    return left[0] ?? null;
  }
  return null;
}

function reshapeData(c: RuleContext): Dim[] | undefined {
  return c.data(0);
}

registerShapeRule('Flatten', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const axis = getInt(c.node, 'axis', 1);
  const a = axis < 0 ? axis + x.length : axis;
  if (a < 0 || a > x.length) c.fail(`axis ${axis} out of range for rank ${x.length}`);
  return [{ elem: c.elem(0), shape: [dimProduct(x.slice(0, a)), dimProduct(x.slice(a))] }];
});

registerShapeRule('Transpose', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const perm = getInts(c.node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length) c.fail(`perm [${perm.join(',')}] does not match rank ${x.length}`);
  return [{ elem: c.elem(0), shape: perm.map((p) => x[p] ?? null) }];
});

function axesOf(c: RuleContext): number[] | undefined {
  return getInts(c.node, 'axes') ?? (c.has(1) ? c.ints(1) : undefined);
}

registerShapeRule('Squeeze', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const axes = axesOf(c);
  if (!axes && c.has(1)) return [{ elem: c.elem(0) }];
  if (!axes) {
    if (x.some((d) => typeof d !== 'number')) return [{ elem: c.elem(0) }];
    return [{ elem: c.elem(0), shape: x.filter((d) => d !== 1), data: c.data(0) }];
  }
  const drop = new Set(axes.map((a) => normAxis(a, x.length) ?? c.fail(`squeeze axis ${a} out of range for rank ${x.length}`)));
  for (const a of drop) if (typeof x[a] === 'number' && x[a] !== 1) c.fail(`cannot squeeze axis ${a} of size ${x[a]}`);
  return [{ elem: c.elem(0), shape: x.filter((_, i) => !drop.has(i)), data: c.data(0) }];
});

registerShapeRule('Unsqueeze', (c) => {
  const x = c.shape(0);
  const axes = axesOf(c);
  if (!x || !axes) return [{ elem: c.elem(0) }];
  const rank = x.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank) ?? c.fail(`unsqueeze axis ${a} out of range for output rank ${rank}`)));
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : x[k++]!);
  return [{ elem: c.elem(0), shape: out, data: c.data(0) }];
});

registerShapeRule('Expand', (c) => {
  const x = c.shape(0);
  const s = c.data(1);
  if (!x || !s) return [{ elem: c.elem(0) }];
  const out = broadcastShapes([x, s]);
  if (!out) return c.fail(`cannot expand [${x.join(',')}] to [${s.join(',')}]`);
  return [{ elem: c.elem(0), shape: out }];
});

registerShapeRule('Tile', (c) => {
  const x = c.shape(0);
  const r = c.ints(1);
  if (!x || !r) return [{ elem: c.elem(0), shape: x?.map(() => null) }];
  return [{ elem: c.elem(0), shape: x.map((d, i) => (typeof d === 'number' ? d * r[i]! : r[i] === 1 ? d : null)) }];
});

registerShapeRule('Pad', (c) => {
  const x = c.shape(0);
  if (!x) return [{ elem: c.elem(0) }];
  const pads = getInts(c.node, 'pads') ?? c.ints(1);
  if (!pads) return [{ elem: c.elem(0), shape: x.map(() => null) }];
  const axes = (c.has(3) ? c.ints(3) : undefined) ?? x.map((_, i) => i);
  const n = axes.length;
  const out = [...x];
  axes.forEach((a0, j) => {
    const a = normAxis(a0, x.length)!;
    const d = x[a]!;
    out[a] = typeof d === 'number' ? d + pads[j]! + pads[j + n]! : pads[j] === 0 && pads[j + n] === 0 ? d : null;
  });
  return [{ elem: c.elem(0), shape: out }];
});
