/**
 * Writing clustered weights into a graph in forms onnxruntime runs with standard ops:
 * - 'indices': codes bit-packed at ceil(log2 k) bits + a float codebook, decoded by integer
 *   arithmetic (Div/Mod), Gather of the codebook and Reshape;
 * - 'sparse': Deep Compression's relative-index storage as two bit-packed streams (gaps with
 *   escapes, codes of the non-zeros), decoded by CumSum of the gaps, Compress of the escape
 *   entries, Gather of the codebook and ScatterElements into zeros.
 */
import { type Graph, type NameGenerator, type Node, createNode } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { type Clustered, bestGapBits, bitsFor, encodeSparse, packBits } from './cluster.js';
import { cpuTensor } from './emit.js';

/** Storage forms of clustered weights. */
export type ClusterStorage = 'indices' | 'sparse';

/** What one emitted weight costs. */
export interface EmittedCluster {
  storage: ClusterStorage;
  /** Bytes of the new initializers (packed streams, codebook, small constants). */
  bytes: number;
  /** Bits per stored code. */
  codeBits: number;
  /** Gap width of 'sparse' storage (0 for 'indices'). */
  gapBits: number;
  /** Gap entries including escapes ('sparse'; 0 for 'indices'). */
  entries: number;
}

type Attrs = Parameters<typeof createNode>[3];

/**
 * Small int64 constants shared by every decoder of a graph (keyed by their values): decoders
 * are tiny, so per-layer copies of the same constants would cost more than the weights saved.
 */
export type SharedConstants = Map<string, string>;

/** Builds the decoder nodes of one weight, with short value names under `base`. */
class Decoder {
  readonly created: string[] = [];
  constructor(
    private readonly g: Graph,
    private readonly names: NameGenerator,
    private readonly base: string,
    private readonly nodes: Node[],
    private readonly opset: number,
    private readonly shared: SharedConstants,
  ) {}
  /** A shared int64 constant (created once per graph). */
  k(values: number[], shape: readonly number[] = [values.length]): string {
    const key = `${shape.join('x')}:${values.join(',')}`;
    let name = this.shared.get(key);
    if (!name) {
      name = this.names.value(`k${this.shared.size}`);
      this.g.initializers.set(name, tensor(BigInt64Array.from(values.map(BigInt)), shape, 'int64', { backend: 'cpu' }));
      this.shared.set(key, name);
    }
    return name;
  }
  v(s: string): string {
    return this.names.value(`${this.base}_${s}`);
  }
  init(s: string, t: ReturnType<typeof tensor>): string {
    const name = this.v(s);
    this.g.initializers.set(name, t);
    this.created.push(name);
    return name;
  }
  op(type: string, inputs: string[], out: string = this.v('t'), attrs: Attrs = {}): string {
    this.nodes.push(createNode(type, inputs, [out], attrs));
    return out;
  }
  cast(x: string, to: number): string {
    return this.op('Cast', [x], undefined, { to: { type: 'int', value: to } });
  }
  /** int64 [count] from values packed by {@link packBits} at `bits` bits. */
  unpack(s: string, values: ArrayLike<number>, bits: number): string {
    const count = values.length;
    if (bits === 8) return this.cast(this.init(s, cpuTensor(values, [count], 'uint8')), 7);
    const packed = this.init(s, cpuTensor(packBits(values, bits), [Math.ceil(count / 8) * bits], 'uint8'));
    const rows = this.op('Reshape', [this.cast(packed, 7), this.k([-1, bits])]);
    const weighted = this.op('Mul', [rows, this.k(Array.from({ length: bits }, (_, b) => 256 ** (bits - 1 - b)))]);
    const sum = this.opset >= 13
      ? this.op('ReduceSum', [weighted, this.k([1])], undefined, { keepdims: { type: 'int', value: 0 } })
      : this.op('ReduceSum', [weighted], undefined, { axes: { type: 'ints', value: [1] }, keepdims: { type: 'int', value: 0 } });
    const col = this.op('Unsqueeze', this.opset >= 13 ? [sum, this.k([1])] : [sum], undefined, this.opset >= 13 ? {} : { axes: { type: 'ints', value: [1] } });
    const shifted = this.op('Div', [col, this.k(Array.from({ length: 8 }, (_, j) => 2 ** (bits * (7 - j))))]);
    const m = this.k([2 ** bits], []);
    // Mod needs opset 10: x - (x / m) * m is the same on these non-negative integers
    const fields = this.opset >= 10 ? this.op('Mod', [shifted, m]) : this.op('Sub', [shifted, this.op('Mul', [this.op('Div', [shifted, m]), m])]);
    const flat = this.op('Reshape', [fields, this.k([-1])]);
    if (count % 8 === 0) return flat;
    if (this.opset < 10) return this.op('Slice', [flat], undefined, { starts: { type: 'ints', value: [0] }, ends: { type: 'ints', value: [count] }, axes: { type: 'ints', value: [0] } });
    return this.op('Slice', [flat, this.k([0]), this.k([count])]);
  }
  bytes(): number {
    let b = 0;
    for (const n of this.created) {
      const t = this.g.initializers.get(n)!;
      b += t.dtype === 'int64' ? t.size * 8 : t.dtype === 'uint8' || t.dtype === 'int8' ? t.size : t.size * 4;
    }
    return b;
  }
}

/**
 * Emit nodes computing the dense float32 weight `out` of `shape` from `c`, appending them to
 * `nodes`. 'sparse' needs a zero centroid at code 0; `gapBits` 0 picks the smallest width.
 */
export function emitClustered(g: Graph, names: NameGenerator, base: string, c: Clustered, shape: readonly number[], storage: ClusterStorage, gapBits: number, nodes: Node[], out: string, opset: number, shared: SharedConstants = new Map()): EmittedCluster {
  const d = new Decoder(g, names, base, nodes, opset, shared);
  const shapeName = d.k([...shape]);
  if (storage === 'sparse') {
    const gb = gapBits || bestGapBits(c.codes);
    const streams = encodeSparse(c.codes, gb);
    const codeBits = bitsFor(c.codebook.length - 1);
    const gaps = d.unpack('gaps', streams.gaps, gb);
    const isEsc = d.op('Equal', [gaps, d.k([2 ** gb - 1], [])]);
    // escapes advance by 2^gb − 1, entries by gap + 1
    const one = d.k([1], []);
    const inc = d.op('Sub', [d.op('Add', [gaps, one]), d.cast(isEsc, 7)]);
    const pos = d.op('Sub', [d.op('CumSum', [inc, d.k([0], [])]), one]);
    const real = d.op('Compress', [pos, d.op('Not', [isEsc])], undefined, { axis: { type: 'int', value: 0 } });
    const codebook = d.init('codebook', tensor(c.codebook.slice(1), [c.codebook.length - 1], 'float32', { backend: 'cpu' }));
    const vals = d.op('Gather', [codebook, d.unpack('codes', streams.codes, codeBits)], undefined, { axis: { type: 'int', value: 0 } });
    const zeros = d.op('ConstantOfShape', [d.k([c.codes.length])], undefined, { value: { type: 'tensor', value: tensor(new Float32Array([0]), [1], 'float32', { backend: 'cpu' }) } });
    const flat = d.op('ScatterElements', [zeros, real, vals], undefined, { axis: { type: 'int', value: 0 } });
    d.op('Reshape', [flat, shapeName], out);
    return { storage, bytes: d.bytes(), codeBits, gapBits: gb, entries: streams.gaps.length };
  }
  const codeBits = bitsFor(c.codebook.length);
  const codebook = d.init('codebook', tensor(c.codebook, [c.codebook.length], 'float32', { backend: 'cpu' }));
  const flat = d.op('Gather', [codebook, d.unpack('codes', c.codes, codeBits)], undefined, { axis: { type: 'int', value: 0 } });
  d.op('Reshape', [flat, shapeName], out);
  return { storage, bytes: d.bytes(), codeBits, gapBits: 0, entries: 0 };
}
