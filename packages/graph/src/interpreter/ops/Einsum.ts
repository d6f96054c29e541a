import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { einsumLabelSizes, parseEinsum } from '../../ir/einsum.js';
import { unsupported } from './util.js';

/**
 * ONNX Einsum on tensor ops (differentiable, every backend): diagonals of repeated labels by a
 * identity mask and a sum, labels no other operand or the output needs summed away, then the
 * operands contracted left to right as one batched matmul each ([batch, M, K] @ [batch, K, N]),
 * and the result transposed to the output's order.
 */

/** An operand and one label per axis. */
interface Labeled {
  t: Tensor;
  labels: string[];
}

/** Dtypes matmul runs; others contract by a broadcast product and a sum. */
const MATMUL_DTYPES = new Set<T.DType>(['float32', 'float16', 'int32']);

/** Take the diagonal of every repeated label (x[..i..i..] → y[..i..]). */
function diagonals(op: Labeled): Labeled {
  let { t, labels } = op;
  for (;;) {
    const i = labels.findIndex((l, k) => labels.indexOf(l) !== k);
    if (i < 0) return { t, labels };
    const first = labels.indexOf(labels[i]!);
    const n = t.shape[first]!;
    if (t.shape[i] !== n) throw new T.ShapeError(`Einsum: repeated label '${labels[i]}' spans axes of sizes ${n} and ${t.shape[i]}`);
    const eye = new Array<number>(n * n).fill(0);
    for (let k = 0; k < n; k++) eye[k * n + k] = 1;
    const maskShape = t.shape.map((_, k) => (k === first || k === i ? n : 1));
    const mask = T.reshape(T.tensor(eye, [n, n], t.dtype, { backend: t.backend }), maskShape);
    t = T.sum(T.mul(t, mask), [i]);
    labels = labels.filter((_, k) => k !== i);
  }
}

/** Sum the axes whose labels are not in `keep`. */
function sumAway(op: Labeled, keep: ReadonlySet<string>): Labeled {
  const axes = op.labels.flatMap((l, k) => (keep.has(l) ? [] : [k]));
  if (axes.length === 0) return op;
  return { t: T.sum(op.t, axes), labels: op.labels.filter((l) => keep.has(l)) };
}

/** Broadcast size-1 axes to their label's size. */
function broadcastTo(op: Labeled, sizes: ReadonlyMap<string, number>): Labeled {
  const shape = op.labels.map((l, k) => (op.t.shape[k] === 1 ? (sizes.get(l) ?? 1) : op.t.shape[k]!));
  return shape.every((d, k) => d === op.t.shape[k]) ? op : { t: T.expand(op.t, shape), labels: op.labels };
}

/** Permute `op` so its labels read `order`. */
function permute(op: Labeled, order: readonly string[]): Tensor {
  const perm = order.map((l) => op.labels.indexOf(l));
  return perm.every((p, k) => p === k) ? op.t : T.transpose(op.t, perm);
}

const sizeOf = (t: Tensor, labels: readonly string[], ls: readonly string[]): number[] => ls.map((l) => t.shape[labels.indexOf(l)]!);
const prod = (d: readonly number[]): number => d.reduce((p, x) => p * x, 1);

/** Contract two operands over their shared labels not in `keep`; shared labels in `keep` are batch axes. */
function contract(a: Labeled, b: Labeled, keep: ReadonlySet<string>): Labeled {
  const inB = new Set(b.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const inner = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const m = a.labels.filter((l) => !inB.has(l));
  const n = b.labels.filter((l) => !a.labels.includes(l));
  if (!MATMUL_DTYPES.has(a.t.dtype)) {
    // broadcast product over the union of labels, then sum the contracted ones
    const all = [...batch, ...m, ...n, ...inner];
    const spread = (op: Labeled): Tensor => {
      const t = permute(op, all.filter((l) => op.labels.includes(l)));
      return T.reshape(t, all.map((l) => (op.labels.includes(l) ? op.t.shape[op.labels.indexOf(l)]! : 1)));
    };
    const p = T.mul(spread(a), spread(b));
    return { t: inner.length ? T.sum(p, inner.map((_, k) => batch.length + m.length + n.length + k)) : p, labels: [...batch, ...m, ...n] };
  }
  const bd = sizeOf(a.t, a.labels, batch);
  const md = sizeOf(a.t, a.labels, m);
  const kd = sizeOf(a.t, a.labels, inner);
  const nd = sizeOf(b.t, b.labels, n);
  const a3 = T.reshape(permute(a, [...batch, ...m, ...inner]), [prod(bd), prod(md), prod(kd)]);
  const b3 = T.reshape(permute(b, [...batch, ...inner, ...n]), [prod(bd), prod(kd), prod(nd)]);
  return { t: T.reshape(T.matmul(a3, b3), [...bd, ...md, ...nd]), labels: [...batch, ...m, ...n] };
}

/**
 * Evaluate an Einsum equation on `inputs` (see {@link parseEinsum} for the equation's forms).
 * @throws ArgumentError / ShapeError for a malformed equation or inputs that do not fit it.
 */
export function einsum(equation: string, inputs: readonly Tensor[], where = 'Einsum'): Tensor {
  const parsed = parseEinsum(equation, inputs.map((t) => t.rank), where);
  const dtype = inputs[0]?.dtype;
  const other = inputs.find((t) => t.dtype !== dtype);
  if (other) throw new T.DTypeError(`${where}: inputs have dtypes ${dtype} and ${other.dtype}`);
  const sizes = einsumLabelSizes(parsed, inputs.map((t) => t.shape), where);
  const ops = inputs.map((t, i) => broadcastTo(diagonals({ t, labels: [...parsed.inputs[i]!] }), sizes));
  const neededAfter = (i: number): Set<string> => new Set([...parsed.output, ...ops.slice(i + 1).flatMap((o) => o.labels)]);
  let acc = sumAway(ops[0]!, neededAfter(0));
  for (let i = 1; i < ops.length; i++) {
    const later = neededAfter(i);
    const next = sumAway(ops[i]!, new Set([...later, ...acc.labels]));
    acc = contract(sumAway(acc, new Set([...later, ...next.labels])), next, later);
  }
  acc = sumAway(acc, new Set(parsed.output));
  return permute(acc, parsed.output);
}

registerOp('Einsum', (inputs, ctx) => {
  const xs = inputs.map((x, i) => x ?? unsupported(ctx, `a missing input ${i}`));
  return [einsum(ctx.string('equation', ''), xs, `node ${ctx.node.name || '(unnamed)'} (Einsum)`)];
});
