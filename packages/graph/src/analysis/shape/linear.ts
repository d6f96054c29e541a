import { poolOutputSize } from '@whittle/tensor';
import { getInt, getInts, getString } from '../../ir/attributes.js';
import type { Dim } from '../../ir/types.js';
import { type EinsumLabels, einsumLabelSizes, parseEinsum } from '../../ir/einsum.js';
import { broadcastShapes } from './dims.js';
import { type OutInfo, type RuleContext, getShapeRule, registerShapeRule } from './rule.js';

function checkInner(c: RuleContext, k1: Dim | undefined, k2: Dim | undefined): void {
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
    c.fail(`inner dimensions differ: ${k1} vs ${k2} (inputs [${c.shape(0)?.join(',')}] and [${c.shape(1)?.join(',')}])`);
  }
}

registerShapeRule('MatMul', (c) => {
  const a = c.shape(0);
  const b = c.shape(1);
  if (!a || !b) return [{ elem: c.elem(0) }];
  if (a.length === 0 || b.length === 0) c.fail('MatMul inputs must have rank >= 1');
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  checkInner(c, a2[a2.length - 1], b2[b2.length - 2]);
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return c.fail(`cannot broadcast batch dims of [${a.join(',')}] and [${b.join(',')}]`);
  const out: Dim[] = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return [{ elem: c.elem(0), shape: out }];
});

registerShapeRule('Gemm', (c) => {
  const a = c.shape(0);
  const b = c.shape(1);
  if (!a || !b) return [{ elem: c.elem(0) }];
  if (a.length !== 2 || b.length !== 2) c.fail(`Gemm needs 2-D A and B, got [${a.join(',')}] and [${b.join(',')}]`);
  const ta = getInt(c.node, 'transA', 0) !== 0;
  const tb = getInt(c.node, 'transB', 0) !== 0;
  const [m, ka] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = tb ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  checkInner(c, ka, kb);
  return [{ elem: c.elem(0), shape: [m, n] }];
});

/**
 * Output spatial size of a conv/pool window; `ceil` undefined for Conv (floor), else a pool's
 * ceil_mode (ONNX Runtime's count, as the interpreter's kernels: `poolOutputSize`).
 */
function windowOut(c: RuleContext, x: Dim, k: number, stride: number, dil: number, padBegin: number, padEnd: number, ceil: boolean | undefined): Dim {
  const autoPad = getString(c.node, 'auto_pad', 'NOTSET');
  if (typeof x !== 'number') return null;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(x / stride);
  const [pb, pe] = autoPad === 'VALID' ? [0, 0] : [padBegin, padEnd];
  if (ceil !== undefined) return poolOutputSize(x, pb, pe, k, stride, dil, ceil);
  return Math.floor((x + pb + pe - (dil * (k - 1) + 1)) / stride) + 1;
}

function spatial(c: RuleContext, x: readonly Dim[], kernel: number[], ceil: boolean | undefined): Dim[] {
  const nd = x.length - 2;
  if (nd < 1) c.fail(`input has rank ${x.length}; a window op needs [N, C, spatial...]`);
  const strides = getInts(c.node, 'strides') ?? new Array<number>(nd).fill(1);
  const dil = getInts(c.node, 'dilations') ?? new Array<number>(nd).fill(1);
  const pads = getInts(c.node, 'pads') ?? new Array<number>(2 * nd).fill(0);
  if (kernel.length !== nd) c.fail(`kernel has ${kernel.length} spatial dims, input has ${nd}`);
  return kernel.map((k, i) => windowOut(c, x[i + 2]!, k, strides[i] ?? 1, dil[i] ?? 1, pads[i] ?? 0, pads[i + nd] ?? 0, ceil));
}

registerShapeRule('Conv', (c) => {
  const x = c.shape(0);
  const w = c.shape(1);
  if (!x || !w) return [{ elem: c.elem(0) }];
  const group = getInt(c.node, 'group', 1);
  const cin = x[1];
  const wc = w[1];
  if (typeof cin === 'number' && typeof wc === 'number' && cin !== wc * group) {
    c.fail(`input has ${cin} channels but weight [${w.join(',')}] with group ${group} expects ${Number(wc) * group}`);
  }
  const kernel = getInts(c.node, 'kernel_shape') ?? w.slice(2).map((d) => (typeof d === 'number' ? d : NaN));
  if (kernel.some((k) => Number.isNaN(k))) return [{ elem: c.elem(0), shape: [x[0]!, w[0]!, ...x.slice(2).map(() => null)] }];
  return [{ elem: c.elem(0), shape: [x[0]!, w[0]!, ...spatial(c, x, kernel, undefined)] }];
});

// DeformConv shares Conv's attributes and output size (its offsets and mask only move the taps)
registerShapeRule('DeformConv', getShapeRule('Conv')!);

registerShapeRule('ConvTranspose', (c) => {
  const x = c.shape(0);
  const w = c.shape(1);
  if (!x || !w) return [{ elem: c.elem(0) }];
  const group = getInt(c.node, 'group', 1);
  const nd = x.length - 2;
  if (nd < 1) c.fail(`input has rank ${x.length}; ConvTranspose needs [N, C, spatial...]`);
  const cout = typeof w[1] === 'number' ? w[1] * group : null;
  const explicit = getInts(c.node, 'output_shape');
  if (explicit) return [{ elem: c.elem(0), shape: [x[0]!, cout, ...explicit.slice(-nd)] }];
  const kernel = getInts(c.node, 'kernel_shape') ?? w.slice(2).map((d) => (typeof d === 'number' ? d : NaN));
  const strides = getInts(c.node, 'strides') ?? new Array<number>(nd).fill(1);
  const dil = getInts(c.node, 'dilations') ?? new Array<number>(nd).fill(1);
  const pads = getInts(c.node, 'pads') ?? new Array<number>(2 * nd).fill(0);
  const op = getInts(c.node, 'output_padding') ?? new Array<number>(nd).fill(0);
  const autoPad = getString(c.node, 'auto_pad', 'NOTSET');
  const out = x.slice(2).map((d, i) => {
    const k = kernel[i]!;
    if (typeof d !== 'number' || Number.isNaN(k)) return null;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * strides[i]!;
    return strides[i]! * (d - 1) + op[i]! + (k - 1) * dil[i]! + 1 - (pads[i] ?? 0) - (pads[i + nd] ?? 0);
  });
  return [{ elem: c.elem(0), shape: [x[0]!, cout, ...out] }];
});

function pool(c: RuleContext): OutInfo[] {
  const x = c.shape(0);
  const kernel = getInts(c.node, 'kernel_shape');
  if (!x || !kernel) return [{ elem: c.elem(0) }, { elem: 'int64' }];
  const shape = [x[0]!, x[1]!, ...spatial(c, x, kernel, getInt(c.node, 'ceil_mode', 0) !== 0)];
  return [{ elem: c.elem(0), shape }, { elem: 'int64', shape }];
}
registerShapeRule('MaxPool', pool);
registerShapeRule('AveragePool', pool);
registerShapeRule('LpPool', pool);

function globalPool(c: RuleContext): OutInfo[] {
  const x = c.shape(0);
  return [{ elem: c.elem(0), shape: x ? [x[0]!, x[1]!, ...x.slice(2).map(() => 1)] : undefined }];
}
registerShapeRule('GlobalAveragePool', globalPool);
registerShapeRule('GlobalMaxPool', globalPool);
registerShapeRule('GlobalLpPool', globalPool);

// Einsum: each output label takes its size from the inputs that carry it (a 1 broadcasts).
registerShapeRule('Einsum', (c) => {
  const shapes = c.node.inputs.map((_, i) => c.shape(i));
  if (shapes.some((s) => !s)) return [{ elem: c.elem(0) }];
  const known = shapes as (readonly Dim[])[];
  let labels: EinsumLabels;
  try {
    labels = parseEinsum(getString(c.node, 'equation', ''), known.map((s) => s.length));
    einsumLabelSizes(labels, known);
  } catch (e) {
    return c.fail((e as Error).message);
  }
  const dimOf = (l: string): Dim => {
    const dims = labels.inputs.flatMap((ls, i) => ls.flatMap((x, k) => (x === l ? [known[i]![k]!] : [])));
    return dims.find((d) => d !== 1 && d !== null) ?? dims.find((d) => d === 1) ?? null;
  };
  return [{ elem: c.elem(0), shape: labels.output.map(dimOf) }];
});

// Det: one determinant per trailing [M, M] matrix
registerShapeRule('Det', (c) => {
  const x = c.shape(0);
  return [{ elem: c.elem(0), shape: x ? x.slice(0, -2) : undefined }];
});
