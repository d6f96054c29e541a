/**
 * Parameter counts of the corpus models against a reference read straight from the protobuf
 * bytes (a small wire-format walker here, not @whittle/onnx's decoder): the initializers that are
 * weights (more than one element, not of an index type, or read as a quantized op's weight) plus
 * every Constant node tensor that is a weight — floating point with more than one element and not
 * only read as Resize scales/roi, or of another type and read as the weight of DequantizeLinear /
 * MatMulInteger / ConvInteger — in the main graph and every subgraph; scales and zero points of
 * quantized weights are not parameters.
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
const INDEX_TYPES = new Set([6, 7, 8, 9, 12, 13]); // int32, int64, string, bool, uint32, uint64
const INTEGER_TYPES = new Set([2, 3, 4, 5, 21, 22]); // uint8, int8, uint16, int16, uint4, int4

/** Inputs of quantized ops that hold the weight, and those that hold its (or the activations') scales and zero points. */
const QUANT_INPUTS: Record<string, { weight: number; params: number[] }> = {
  DequantizeLinear: { weight: 0, params: [1, 2] },
  QuantizeLinear: { weight: -1, params: [1, 2] },
  MatMulInteger: { weight: 1, params: [2, 3] },
  ConvInteger: { weight: 1, params: [2, 3] },
  DynamicQuantizeMatMul: { weight: 1, params: [2, 3] },
  MatMulIntegerToFloat: { weight: 1, params: [2, 3, 4, 5] },
  MatMulNBits: { weight: 1, params: [2, 3, 4] },
};

/**
 * Parameters as a float model has them: tensors of more than one element and no index type, and
 * integer tensors read as a quantized op's weight; scales and zero points are not parameters —
 * those quantized ops' parameter inputs, and the Sub / Mul / Add operands that dequantize an
 * integer tensor after a Cast (Transformers.js' dynamic-int8 convolutions).
 */
function reference(bytes: Uint8Array): { parameters: number; constantWeights: number; inSubgraphs: number; skippedConstants: number } {
  const model = fields(bytes);
  const all: { nodes: RawNode[]; initializers: Uint8Array[]; inSubgraph: boolean }[] = [];
  graphs(model.get(7)![0] as Uint8Array, all, false);
  const readers = new Map<string, { op: string; input: number; node: RawNode }[]>();
  const producer = new Map<string, RawNode>();
  for (const g of all) {
    for (const n of g.nodes) {
      n.inputs.forEach((x, i) => x && (readers.get(x) ?? readers.set(x, []).get(x)!).push({ op: n.op, input: i, node: n }));
      for (const y of n.outputs) producer.set(y, n);
    }
  }
  const initializerTypes = new Map<string, number>();
  for (const g of all) for (const t of g.initializers) initializerTypes.set(text(fields(t).get(8)?.[0]), tensorInfo(t).dataType);
  // Cast outputs of integer tensors, and Sub outputs that subtract a zero point from them
  const castOfInteger = (x: string): boolean => {
    const p = producer.get(x);
    return !!p && p.op === 'Cast' && INTEGER_TYPES.has(initializerTypes.get(p.inputs[0] ?? '') ?? 0);
  };
  const dequantOperand = (u: { op: string; input: number; node: RawNode }): boolean => {
    if (u.op !== 'Sub' && u.op !== 'Mul' && u.op !== 'Add') return false;
    const other = u.node.inputs[1 - u.input] ?? '';
    const p = producer.get(other);
    // Add: the offset after q·scale (Transformers.js' int8 convolutions)
    if (u.op === 'Add') return !!p && p.op === 'Mul' && p.inputs.some((x) => castOfInteger(x));
    if (castOfInteger(other)) return true;
    return u.op === 'Mul' && !!p && p.op === 'Sub' && castOfInteger(p.inputs[0] ?? '');
  };
  const isParam = (name: string): boolean => {
    const uses = readers.get(name) ?? [];
    return uses.length > 0 && uses.every((u) => QUANT_INPUTS[u.op]?.params.includes(u.input) || dequantOperand(u));
  };
  const readAsWeight = (name: string): boolean => (readers.get(name) ?? []).some((u) => QUANT_INPUTS[u.op]?.weight === u.input);
  const counts = (name: string, elements: number, dataType: number): boolean =>
    !isParam(name) && (readAsWeight(name) || (elements > 1 && !INDEX_TYPES.has(dataType)));
  let parameters = 0;
  let constantWeights = 0;
  let inSubgraphs = 0;
  let skippedConstants = 0;
  for (const g of all) {
    for (const t of g.initializers) {
      const { elements, dataType } = tensorInfo(t);
      if (counts(text(fields(t).get(8)?.[0]), elements, dataType)) parameters += elements;
    }
    for (const n of g.nodes) {
      if (n.op !== 'Constant' || !n.value) continue;
      const { elements, dataType } = tensorInfo(n.value);
      const uses = readers.get(n.outputs[0]!) ?? [];
      const weight = FLOAT_TYPES.has(dataType)
        ? elements > 1 && (uses.length === 0 || uses.some((u) => !(u.op === 'Resize' && (u.input === 1 || u.input === 2))))
        : uses.some((u) => (u.op === 'DequantizeLinear' && u.input === 0) || ((u.op === 'MatMulInteger' || u.op === 'ConvInteger') && u.input === 1));
      if (!weight || isParam(n.outputs[0]!)) {
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
