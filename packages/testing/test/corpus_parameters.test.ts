/**
 * Parameter counts of the corpus models against a reference read straight from the protobuf
 * bytes (a small wire-format walker here, not @whittle/onnx's decoder): every initializer
 * element plus every Constant node tensor that is a weight — floating point with more than one
 * element and not only read as Resize scales/roi, or of another type and read as the weight of
 * DequantizeLinear / MatMulInteger / ConvInteger — in the main graph and every subgraph.
 */
import { summarize } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { describe, expect, it } from 'vitest';
import { CORPUS, PREQUANTIZED_CORPUS, corpusBytes } from '../src/corpus.js';

type Fields = Map<number, (bigint | Uint8Array)[]>;

function fields(b: Uint8Array): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let s = 0n;
    for (;;) {
      const x = b[i++]!;
      v |= BigInt(x & 0x7f) << s;
      if (x < 0x80) return v;
      s += 7n;
    }
  };
  while (i < b.length) {
    const key = Number(varint());
    const [field, wire] = [key >>> 3, key & 7];
    let v: bigint | Uint8Array;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const n = Number(varint());
      v = b.subarray(i, i + n);
      i += n;
    } else if (wire === 5) (v = 0n), (i += 4);
    else if (wire === 1) (v = 0n), (i += 8);
    else throw new Error(`wire type ${wire}`);
    (out.get(field) ?? out.set(field, []).get(field)!).push(v);
  }
  return out;
}

const text = (v: bigint | Uint8Array | undefined): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : '');
const strings = (f: Fields, k: number): string[] => (f.get(k) ?? []).map(text);

/** Element count and data type of a TensorProto (dims packed or not). */
function tensorInfo(b: Uint8Array): { elements: number; dataType: number } {
  const f = fields(b);
  let elements = 1;
  for (const d of f.get(1) ?? []) {
    if (typeof d === 'bigint') elements *= Number(d);
    else {
      let j = 0;
      while (j < d.length) {
        let v = 0;
        let s = 1;
        for (;;) {
          const x = d[j++]!;
          v += (x & 0x7f) * s;
          s *= 128;
          if (x < 0x80) break;
        }
        elements *= v;
      }
    }
  }
  return { elements, dataType: Number(f.get(2)?.[0] ?? 0n) };
}

interface RawNode { op: string; inputs: string[]; outputs: string[]; value?: Uint8Array; subgraphs: Uint8Array[] }

function graphs(g: Uint8Array, all: { nodes: RawNode[]; initializers: Uint8Array[]; inSubgraph: boolean }[], inSubgraph: boolean): void {
  const f = fields(g);
  const nodes = (f.get(1) ?? []).map((nb): RawNode => {
    const n = fields(nb as Uint8Array);
    const node: RawNode = { op: text(n.get(4)?.[0]), inputs: strings(n, 1), outputs: strings(n, 2), subgraphs: [] };
    for (const ab of n.get(5) ?? []) {
      const a = fields(ab as Uint8Array);
      if (text(a.get(1)?.[0]) === 'value' && a.get(5)) node.value = a.get(5)![0] as Uint8Array;
      for (const sg of [...(a.get(6) ?? []), ...(a.get(11) ?? [])]) node.subgraphs.push(sg as Uint8Array);
    }
    return node;
  });
  all.push({ nodes, initializers: (f.get(5) ?? []) as Uint8Array[], inSubgraph });
  for (const n of nodes) for (const sg of n.subgraphs) graphs(sg, all, true);
}

const FLOAT_TYPES = new Set([1, 10, 11, 16]); // float, float16, double, bfloat16

function reference(bytes: Uint8Array): { parameters: number; constantWeights: number; inSubgraphs: number; skippedConstants: number } {
  const model = fields(bytes);
  const all: { nodes: RawNode[]; initializers: Uint8Array[]; inSubgraph: boolean }[] = [];
  graphs(model.get(7)![0] as Uint8Array, all, false);
  const readers = new Map<string, { op: string; input: number }[]>();
  for (const g of all) for (const n of g.nodes) n.inputs.forEach((x, i) => x && (readers.get(x) ?? readers.set(x, []).get(x)!).push({ op: n.op, input: i }));
  let parameters = 0;
  let constantWeights = 0;
  let inSubgraphs = 0;
  let skippedConstants = 0;
  for (const g of all) {
    for (const t of g.initializers) parameters += tensorInfo(t).elements;
    for (const n of g.nodes) {
      if (n.op !== 'Constant' || !n.value) continue;
      const { elements, dataType } = tensorInfo(n.value);
      const uses = readers.get(n.outputs[0]!) ?? [];
      const weight = FLOAT_TYPES.has(dataType)
        ? elements > 1 && (uses.length === 0 || uses.some((u) => !(u.op === 'Resize' && (u.input === 1 || u.input === 2))))
        : uses.some((u) => (u.op === 'DequantizeLinear' && u.input === 0) || ((u.op === 'MatMulInteger' || u.op === 'ConvInteger') && u.input === 1));
      if (!weight) {
        skippedConstants++;
        continue;
      }
      parameters += elements;
      constantWeights += elements;
      if (g.inSubgraph) inSubgraphs += elements;
    }
  }
  return { parameters, constantWeights, inSubgraphs, skippedConstants };
}

describe('corpus: parameters include weights held in Constant nodes', () => {
  for (const m of [...CORPUS, ...PREQUANTIZED_CORPUS]) {
    it(`${m.id}: summarize's parameters equal the count read from the protobuf`, () => {
      const bytes = corpusBytes(m);
      const ref = reference(bytes);
      const s = summarize(readModel(bytes, { validate: false }));
      expect(s.parameters).toBe(ref.parameters);
      expect(s.parameters).toBeGreaterThan(0);
    });
  }

  it('the paddle2onnx and Silero v5 models keep every weight in Constant nodes (v5 inside If branches), next to shape/scalar constants that are not counted', () => {
    for (const id of ['ocr-det', 'ocr-rec', 'ocr-cls', 'vad-v5']) {
      const m = CORPUS.find((x) => x.id === id)!;
      const bytes = corpusBytes(m);
      const ref = reference(bytes);
      expect(ref.constantWeights, id).toBe(ref.parameters);
      expect(ref.skippedConstants, id).toBeGreaterThan(0);
      // float32 weights: nearly the whole file
      const s = summarize(readModel(bytes, { validate: false }));
      expect(s.bytes, id).toBeGreaterThan(0.9 * bytes.length);
      expect(s.bytes, id).toBeLessThan(bytes.length);
      if (id === 'vad-v5') expect(ref.inSubgraphs).toBe(ref.parameters);
    }
  });
});
