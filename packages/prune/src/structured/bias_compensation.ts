/**
 * What a removed channel still gave its readers. A Conv/Gemm channel chosen for its small filter
 * outputs about its bias b (a folded BatchNorm's shift), so after per-channel activations its
 * readers saw about f(b) everywhere: a constant. Dropping the channel drops that constant from
 * every reader's sum, which shifts whole feature maps (one channel of PaddleOCR's detector stem
 * took its output cosine to 0.03). Folding W'[:, c] · f(b) into each reading layer's bias keeps it.
 *
 * The constant is carried channel by channel through what lies between: activations whose value
 * on a constant is known, elementwise ops with constant operands (decomposed HardSwish / SiLU,
 * per-channel scales), depthwise convs and pooling (a constant map pools to itself), to the Conv
 * (group 1), Gemm or MatMul (+ bias Add) that read it. Anything else on the way (a residual add of
 * another live tensor, a concat, a resize, Flatten, a graph output) leaves that channel
 * uncompensated, removed as before. Exact inside the reader's receptive field; at zero-padded
 * borders of a Conv the constant was partly absent and the folded bias is an approximation.
 */
import { type Graph, type Model, type Node, buildUseIndex, getFloat, getInt, getString, isDefaultDomain } from '@whittle/graph';
import { erf, tensor } from '@whittle/tensor';
import { cpuTensor, floatValues } from '../layers.js';
import { type ChannelAnalysis, find } from './channels.js';

type Scalar = (x: number) => number;
/** One op on the way to a reader: the value of channel `c` after it, from its value before. */
type Step = (x: number, c: number) => number;

const POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);

/** A depthwise Conv (group = channels, one filter per channel): constant x of channel c → x·Σw[c] + b[c]. */
async function depthwiseStep(g: Graph, n: Node, channels: number): Promise<Step | undefined> {
  const w = g.initializers.get(n.inputs[1] ?? '');
  if (getInt(n, 'group', 1) !== channels || !w || w.shape[0] !== channels || w.shape[1] !== 1) return undefined;
  const b = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
  if (n.inputs[2] && !b) return undefined;
  const wv = await floatValues(w);
  const bv = b ? await floatValues(b) : undefined;
  const per = wv.length / channels;
  const sums = Float64Array.from({ length: channels }, (_, c) => {
    let s = 0;
    for (let k = 0; k < per; k++) s += wv[c * per + k]!;
    return s;
  });
  return (x, c) => x * sums[c]! + (bv?.[c] ?? 0);
}

/** The scalar function of a unary node on a constant input, or undefined when not known. */
function scalarOf(g: Graph, n: Node): Scalar | undefined {
  if (!isDefaultDomain(n.domain)) return undefined;
  const constant = (i: number): number | undefined => {
    const name = n.inputs[i];
    if (!name) return undefined;
    const t = g.initializers.get(name);
    return t && t.size === 1 ? Number((t.dataSync() as ArrayLike<number>)[0]) : Number.NaN;
  };
  switch (n.opType) {
    case 'Identity':
    case 'Dropout':
      return (x) => x;
    case 'Relu':
      return (x) => Math.max(0, x);
    case 'LeakyRelu': {
      const a = getFloat(n, 'alpha', 0.01);
      return (x) => (x < 0 ? a * x : x);
    }
    case 'Sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'Tanh':
      return Math.tanh;
    case 'HardSigmoid': {
      const a = getFloat(n, 'alpha', 0.2);
      const b = getFloat(n, 'beta', 0.5);
      return (x) => Math.max(0, Math.min(1, a * x + b));
    }
    case 'HardSwish':
      return (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'Elu': {
      const a = getFloat(n, 'alpha', 1);
      return (x) => (x < 0 ? a * (Math.exp(x) - 1) : x);
    }
    case 'Softplus':
      return (x) => Math.log1p(Math.exp(x));
    case 'Gelu':
      // the tensor core's own erf / tanh form, on the one value
      return getString(n, 'approximate', 'none') === 'tanh'
        ? (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
        : (x) => 0.5 * x * (1 + (erf(tensor([x / Math.SQRT2], [1])).dataSync() as Float32Array)[0]!);
    case 'Clip': {
      // opset < 11: attributes; later: optional constant inputs (a non-constant bound: unknown)
      const lo = n.inputs.length > 1 ? constant(1) : getFloat(n, 'min', -Infinity);
      const hi = n.inputs.length > 2 ? constant(2) : getFloat(n, 'max', Infinity);
      if (Number.isNaN(lo) || Number.isNaN(hi)) return undefined;
      return (x) => Math.min(hi ?? Infinity, Math.max(lo ?? -Infinity, x));
    }
    default:
      return POOLS.has(n.opType) ? (x) => x : undefined;
  }
}

/** The bias slot of a reader: its own input 2 (Conv, Gemm) or the initializer of a single following Add. */
function biasSlot(g: Graph, n: Node, outputs: number, uses: ReturnType<typeof buildUseIndex>, counts: Map<string, number>): { name: string | undefined; make: boolean } | undefined {
  if (n.opType === 'Conv' || n.opType === 'Gemm') {
    const b = n.inputs[2];
    if (!b) return { name: undefined, make: true };
    const t = g.initializers.get(b);
    return t && t.size === outputs && (counts.get(b) ?? 0) === 1 ? { name: b, make: false } : undefined;
  }
  // MatMul: a bias Add right after it
  const next = uses.consumers.get(n.outputs[0]!) ?? [];
  if (next.length !== 1 || next[0]!.node.opType !== 'Add') return undefined;
  const add = next[0]!.node;
  const other = add.inputs[1 - next[0]!.input];
  const t = other ? g.initializers.get(other) : undefined;
  return t && t.size === outputs && t.rank === 1 && (counts.get(other!) ?? 0) === 1 ? { name: other, make: false } : undefined;
}

const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Max: Math.max,
  Min: Math.min,
  Pow: Math.pow,
};

/** Reader kinds: the layers whose bias absorbs the constant. */
function isReader(n: Node): boolean {
  return (n.opType === 'Conv' && getInt(n, 'group', 1) === 1) || n.opType === 'MatMul' || (n.opType === 'Gemm' && getInt(n, 'transA', 0) === 0);
}

/**
 * Fold the constant each removed channel gave its readers into their biases, in place on `model`
 * (before {@link removeChannels} slices the weights). Returns how many (channel, reader) pairs
 * were folded.
 */
export async function compensateRemovedChannels(model: Model, a: ChannelAnalysis, removed: ReadonlySet<number>): Promise<number> {
  const g = model.graph;
  const uses = buildUseIndex(g);
  const order = new Map(g.nodes.map((n, i) => [n, i]));
  const counts = new Map<string, number>();
  for (const n of g.nodes) for (const i of new Set(n.inputs)) if (i && g.initializers.has(i)) counts.set(i, (counts.get(i) ?? 0) + 1);
  const values = new Map<string, Float32Array | Float64Array>();
  const valuesOf = async (name: string): Promise<Float32Array | Float64Array | undefined> => {
    const t = g.initializers.get(name);
    if (!t) return undefined;
    let v = values.get(name);
    if (!v) values.set(name, (v = await floatValues(t)));
    return v;
  };
  const deltas = new Map<string, { values: Float64Array; node: Node }>();
  let folded = 0;
  for (const p of a.producers) {
    const space = a.spaces.get(p.value)!;
    const C = space.ids.length;
    const gone = space.ids.flatMap((id, k) => (removed.has(find(a.parent, id)) ? [k] : []));
    if (!gone.length || (p.opType !== 'Conv' && p.opType !== 'Gemm')) continue;
    const node = g.nodes.find((n) => n.name === p.node);
    const biasT = node?.inputs[2] ? g.initializers.get(node.inputs[2]) : undefined;
    if (!node || !biasT || biasT.size !== C) continue;
    const bias = (await valuesOf(node.inputs[2]!))!;
    // the region the channel's constant flows through, in graph order, up to its readers
    const region: Node[] = [];
    const readers: Node[] = [];
    const inRegion = new Set([p.value]);
    let ok = true;
    for (const n of g.nodes.slice(order.get(node)! + 1)) {
      if (!n.inputs.some((i) => inRegion.has(i))) continue;
      if (isReader(n) && inRegion.has(n.inputs[0]!) && n.inputs.slice(1).every((i) => !i || g.initializers.has(i))) {
        readers.push(n);
        continue;
      }
      const depthwise = n.opType === 'Conv' && getInt(n, 'group', 1) === C;
      if (!isDefaultDomain(n.domain) || (!BINARY[n.opType] && !scalarOf(g, n) && !depthwise) || n.inputs.some((i) => i && !inRegion.has(i) && !g.initializers.has(i))) {
        ok = false;
        break;
      }
      region.push(n);
      for (const o of n.outputs) if (o) inRegion.add(o);
    }
    if (!ok || !readers.length || [...inRegion].some((v) => uses.graphOutputs.has(v))) continue;
    // every region value must be read inside the region or by a reader
    if ([...inRegion].some((v) => (uses.consumers.get(v) ?? []).some((u) => !region.includes(u.node) && !readers.includes(u.node)))) continue;
    // each removed channel's constant, through the region
    const at = new Map<string, Float64Array>();
    const operand = async (name: string, ch: number): Promise<number | undefined> => {
      const r = at.get(name);
      if (r) return r[ch];
      const v = await valuesOf(name);
      return v?.length === 1 ? v[0] : v?.length === C ? v[ch] : undefined;
    };
    at.set(p.value, Float64Array.from({ length: C }, (_, k) => bias[k]!));
    for (const n of region) {
      const out = new Float64Array(C);
      const dw = n.opType === 'Conv' ? await depthwiseStep(g, n, C) : undefined;
      if (n.opType === 'Conv' && !dw) {
        ok = false;
        break;
      }
      const unary = dw ?? scalarOf(g, n);
      for (const c of gone) {
        const x = await operand(n.inputs[0]!, c);
        const y = BINARY[n.opType] ? await operand(n.inputs[1]!, c) : undefined;
        if (x === undefined || (BINARY[n.opType] && y === undefined)) {
          ok = false;
          break;
        }
        out[c] = BINARY[n.opType] ? BINARY[n.opType]!(x, y!) : unary!(x, c);
      }
      if (!ok) break;
      at.set(n.outputs[0]!, out);
    }
    if (!ok) continue;
    for (const n of readers) {
      const w = g.initializers.get(n.inputs[1]!)!;
      // the reader's input channel axis must be this producer's channels, one to one
      const inSpace = a.spaces.get(n.inputs[0]!);
      if (!inSpace || inSpace.block !== 1 || inSpace.ids.length !== C || inSpace.ids.some((id, k) => find(a.parent, id) !== find(a.parent, space.ids[k]!))) continue;
      const transB = n.opType === 'Gemm' && getInt(n, 'transB', 0) === 1;
      const outputs = n.opType === 'Conv' || transB ? w.shape[0]! : w.shape[1]!;
      const slot = biasSlot(g, n, outputs, uses, counts);
      if (!slot) continue;
      const wv = (await valuesOf(n.inputs[1]!))!;
      const input = at.get(n.inputs[0]!)!;
      const key = slot.name ?? `${n.name}\u0000new`;
      const d = deltas.get(key) ?? { values: new Float64Array(outputs), node: n };
      for (const c of gone) {
        const value = input[c]!;
        if (value === 0 || !Number.isFinite(value)) continue;
        for (let o = 0; o < outputs; o++) {
          let sum = 0;
          if (n.opType === 'Conv') {
            const per = wv.length / (w.shape[0]! * w.shape[1]!);
            const base = (o * w.shape[1]! + c) * per;
            for (let k = 0; k < per; k++) sum += wv[base + k]!;
          } else sum = transB ? wv[o * w.shape[1]! + c]! : wv[c * w.shape[1]! + o]!;
          d.values[o]! += sum * value;
        }
        folded++;
      }
      deltas.set(key, d);
    }
  }
  for (const [key, d] of deltas) {
    if (!key.endsWith('\u0000new')) {
      const t = g.initializers.get(key)!;
      const v = Float32Array.from(await floatValues(t), (x, i) => x + d.values[i]!);
      g.initializers.set(key, cpuTensor(v, [...t.shape], t.dtype));
      continue;
    }
    // a Conv / Gemm without a bias gets one; the analysis knew no bias there, so removeChannels
    // will not slice it: when the reader loses output channels itself, they are dropped here
    const own = a.producers.find((q) => q.node === d.node.name && q.value === d.node.outputs[0]);
    const ownSpace = own ? a.spaces.get(own.value) : undefined;
    const keep = ownSpace && ownSpace.block === 1 && ownSpace.ids.length === d.values.length ? ownSpace.ids.flatMap((id, k) => (removed.has(find(a.parent, id)) ? [] : [k])) : undefined;
    const values = keep ? Float32Array.from(keep, (k) => d.values[k]!) : Float32Array.from(d.values);
    const name = `${d.node.name || d.node.outputs[0]}_compensation_bias`;
    g.initializers.set(name, cpuTensor(values, [values.length], 'float32'));
    while (d.node.inputs.length < 2) d.node.inputs.push('');
    d.node.inputs[2] = name;
  }
  return folded;
}
