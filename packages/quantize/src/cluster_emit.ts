/**
 * Writing clustered weights into a graph in forms onnxruntime runs with standard ops:
 * - 'indices': 4-bit codes packed two per byte (uint8 codes above 16 clusters) + a float
 *   codebook, decoded by integer Div/Mod, Gather of the codebook and Reshape;
 * - 'sparse': Deep Compression's relative-index storage — one byte per entry holding the gap
 *   to the previous non-zero and the code — decoded by Div/Mod, CumSum of the gaps,
 *   ScatterElements of codebook values into zeros, Reshape.
 */
import { type Graph, type NameGenerator, type Node, createNode } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { type Clustered, encodeSparse, packNibbles } from './cluster.js';
import { cpuTensor } from './emit.js';

/** Storage forms of clustered weights. */
export type ClusterStorage = 'indices' | 'sparse';

/** What one emitted weight costs. */
export interface EmittedCluster {
  storage: ClusterStorage;
  /** Bytes of the new initializers (codes / entries, codebook, shape constants). */
  bytes: number;
  /** Sparse entries (including gap fillers); 0 for 'indices'. */
  entries: number;
}

function int64(values: number[], shape: readonly number[]): ReturnType<typeof tensor> {
  return tensor(BigInt64Array.from(values.map(BigInt)), shape, 'int64', { backend: 'cpu' });
}

function bytesOf(g: Graph, names: readonly string[]): number {
  let b = 0;
  for (const n of names) {
    const t = g.initializers.get(n)!;
    b += t.dtype === 'int64' ? t.size * 8 : t.dtype === 'uint8' || t.dtype === 'int8' ? t.size : t.size * 4;
  }
  return b;
}

/**
 * Emit nodes computing the dense weight `out` (float32, `shape`) from `c`, append them to
 * `nodes`. `sparse` storage needs a zero centroid at code 0 and codes below 2^(8 − gapBits).
 */
export function emitClustered(g: Graph, names: NameGenerator, base: string, c: Clustered, shape: readonly number[], storage: ClusterStorage, gapBits: number, nodes: Node[], out: string): EmittedCluster {
  const n = c.codes.length;
  const v = (s: string): string => names.value(`${base}_${s}`);
  const init = (s: string, t: ReturnType<typeof tensor>): string => {
    const name = v(s);
    g.initializers.set(name, t);
    return name;
  };
  const add = (op: string, inputs: string[], outName: string, attrs: Parameters<typeof createNode>[3] = {}): string => {
    nodes.push(createNode(op, inputs, [outName], attrs, { name: names.node(`${base}_${op}`) }));
    return outName;
  };
  const codebook = init('codebook', tensor(c.codebook, [c.codebook.length], 'float32', { backend: 'cpu' }));
  const shapeName = init('shape', int64([...shape], [shape.length]));
  const created = [codebook, shapeName];
  if (storage === 'sparse') {
    const codeBits = 8 - gapBits;
    const entries = encodeSparse(c.codes, gapBits);
    const e = init('entries', cpuTensor(entries, [entries.length], 'uint8'));
    const div = init('div', cpuTensor([2 ** codeBits], [], 'int32'));
    const one = init('one', int64([1], []));
    const size = init('size', int64([n], [1]));
    created.push(e, div, one, size);
    const e32 = add('Cast', [e], v('e32'), { to: { type: 'int', value: 6 } });
    const gap0 = add('Div', [e32, div], v('gap0'));
    const code = add('Mod', [e32, div], v('code'));
    const gap = add('Add', [add('Cast', [gap0], v('gap64'), { to: { type: 'int', value: 7 } }), one], v('gap'));
    const pos = add('Sub', [add('CumSum', [gap, init('axis', int64([0], []))], v('cum')), one], v('pos'));
    created.push(`${base}_axis`);
    const vals = add('Gather', [codebook, code], v('vals'), { axis: { type: 'int', value: 0 } });
    const zeros = add('ConstantOfShape', [size], v('zeros'), { value: { type: 'tensor', value: tensor(new Float32Array([0]), [1], 'float32', { backend: 'cpu' }) } });
    const flat = add('ScatterElements', [zeros, pos, vals], v('flat'), { axis: { type: 'int', value: 0 } });
    add('Reshape', [flat, shapeName], out);
    return { storage, bytes: bytesOf(g, created.filter((x) => g.initializers.has(x))), entries: entries.length };
  }
  let codes: string;
  if (c.codebook.length <= 16) {
    // two 4-bit codes per byte: element 2i in the high nibble, 2i + 1 in the low one
    const packed = init('codes', cpuTensor(packNibbles(c.codes), [Math.ceil(n / 2)], 'uint8'));
    const sixteen = init('sixteen', cpuTensor([16], [], 'int32'));
    const p32 = add('Cast', [packed], v('p32'), { to: { type: 'int', value: 6 } });
    const hi = add('Unsqueeze', [add('Div', [p32, sixteen], v('hi')), init('ax1', int64([1], [1]))], v('hi2'));
    const lo = add('Unsqueeze', [add('Mod', [p32, sixteen], v('lo')), `${base}_ax1`], v('lo2'));
    const pairs = add('Concat', [hi, lo], v('pairs'), { axis: { type: 'int', value: 1 } });
    const all = add('Reshape', [pairs, init('minus1', int64([-1], [1]))], v('all'));
    created.push(packed, sixteen, `${base}_ax1`, `${base}_minus1`);
    if (n % 2) {
      const zero = init('start', int64([0], [1]));
      const end = init('end', int64([n], [1]));
      created.push(zero, end);
      codes = add('Slice', [all, zero, end], v('idx'));
    } else codes = all;
  } else {
    const raw = init('codes', cpuTensor(c.codes, [n], 'uint8'));
    created.push(raw);
    codes = add('Cast', [raw], v('idx'), { to: { type: 'int', value: 6 } });
  }
  const flat = add('Gather', [codebook, codes], v('flat'), { axis: { type: 'int', value: 0 } });
  add('Reshape', [flat, shapeName], out);
  return { storage, bytes: bytesOf(g, created.filter((x) => g.initializers.has(x))), entries: 0 };
}
