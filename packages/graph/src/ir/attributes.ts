import type { Tensor } from '@whittle/tensor';
import type { AttributeValue, Graph, Node, RawTensor } from './types.js';

/** Attribute constructors: `attr.int(1)`, `attr.floats([0.5])`, … */
export const attr = {
  int: (value: number): AttributeValue => ({ type: 'int', value }),
  float: (value: number): AttributeValue => ({ type: 'float', value }),
  string: (value: string): AttributeValue => ({ type: 'string', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'ints', value: [...value] }),
  floats: (value: readonly number[]): AttributeValue => ({ type: 'floats', value: [...value] }),
  strings: (value: readonly string[]): AttributeValue => ({ type: 'strings', value: [...value] }),
  tensor: (value: Tensor | RawTensor): AttributeValue => ({ type: 'tensor', value }),
  graph: (value: Graph): AttributeValue => ({ type: 'graph', value }),
  graphs: (value: Graph[]): AttributeValue => ({ type: 'graphs', value }),
};

/** An `int` attribute, or `fallback` when absent (or of another type). */
export function getInt(node: Node, name: string, fallback: number): number;
export function getInt(node: Node, name: string): number | undefined;
export function getInt(node: Node, name: string, fallback?: number): number | undefined {
  const a = node.attributes.get(name);
  return a?.type === 'int' ? a.value : fallback;
}

/** A `float` attribute, or `fallback`. */
export function getFloat(node: Node, name: string, fallback: number): number;
export function getFloat(node: Node, name: string): number | undefined;
export function getFloat(node: Node, name: string, fallback?: number): number | undefined {
  const a = node.attributes.get(name);
  return a?.type === 'float' ? a.value : a?.type === 'int' ? a.value : fallback;
}

/** An `ints` attribute, or `undefined`. */
export function getInts(node: Node, name: string): number[] | undefined {
  const a = node.attributes.get(name);
  return a?.type === 'ints' ? a.value : undefined;
}

/** A `floats` attribute, or `undefined`. */
export function getFloats(node: Node, name: string): number[] | undefined {
  const a = node.attributes.get(name);
  return a?.type === 'floats' ? a.value : undefined;
}

/** A `string` attribute, or `fallback`. */
export function getString(node: Node, name: string, fallback: string): string;
export function getString(node: Node, name: string): string | undefined;
export function getString(node: Node, name: string, fallback?: string): string | undefined {
  const a = node.attributes.get(name);
  return a?.type === 'string' ? a.value : fallback;
}

/** The subgraphs held by a node's attributes (If branches, Loop/Scan bodies, …). */
export function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of node.attributes.values()) {
    if (a.type === 'graph') out.push(a.value);
    else if (a.type === 'graphs') out.push(...a.value);
  }
  return out;
}

/** True when `t` is a {@link RawTensor} (not a computable Tensor). */
export function isRawTensor(t: Tensor | RawTensor): t is RawTensor {
  return (t as RawTensor).dataType !== undefined && (t as Tensor).storage === undefined;
}
