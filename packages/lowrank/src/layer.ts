import { type Graph, type NameGenerator, type Node, tensorValues } from '@whittle/graph';
import { type Matrix, type Tensor, float32ToFloat16Bits, matrix, tensor } from '@whittle/tensor';
import type { RankProblem } from './rank.js';

/** How a layer is factorized. */
export type FactorKind = 'svd' | 'tucker2' | 'spatial-svd';

/**
 * The factors of one weight at chosen ranks. They are built once per weight; `emit` writes the
 * replacement of one reader node (a weight shared by several readers, e.g. by both branches of an
 * `If`, is factorized once and every reader uses the same factors).
 */
export interface LayerRewrite {
  initializers: [string, Tensor][];
  /** Relative Frobenius error of the reconstructed weight (in the transformed space when activation-aware). */
  relativeError: number;
  /** The nodes replacing `reader` (a node of the same kind reading the same weight the same way). */
  emit(reader: Node, names: NameGenerator): Node[];
}

/** Looks up a constant weight by name (scope-aware: the reader's graph, then its enclosing graphs). */
export type WeightLookup = (name: string) => Tensor | undefined;

/** A layer ready for rank selection: its spectrum, costs and a builder for its factorization. */
export interface FactorizableLayer {
  node: Node;
  label: string;
  kind: FactorKind;
  /** Weight shape, e.g. '784x300' or '50x20x5x5'. */
  shape: string;
  problem: RankProblem;
  randomized: boolean;
  activationAware: 'none' | 'whiten' | 'asvd';
  build(ranks: readonly number[], names: NameGenerator): LayerRewrite;
}

/** Element types of the weights factorized (factors are written in the weight's type). */
export type FactorDType = 'float32' | 'float16';

const isFactorDType = (d: string): d is FactorDType => d === 'float32' || d === 'float16';

/** A float32 or float16 initializer that is not also a graph input (so it is a constant weight). */
export function constWeight(g: Graph, name: string | undefined): Tensor | undefined {
  if (!name) return undefined;
  const t = g.initializers.get(name);
  if (!t || !isFactorDType(t.dtype)) return undefined;
  return g.inputs.some((v) => v.name === name) ? undefined : t;
}

/** A float32 or float16 constant weight through a lookup (undefined when absent or of another type). */
export function lookupWeight(lookup: WeightLookup, name: string | undefined): Tensor | undefined {
  if (!name) return undefined;
  const t = lookup(name);
  return t && isFactorDType(t.dtype) ? t : undefined;
}

/** A tensor's values as a rows×cols float64 matrix (row-major, as stored). */
export function asMatrix(t: Tensor, rows: number, cols: number): Matrix {
  return matrix(rows, cols, tensorValues(t));
}

/** A float32 (or, for a float16 model's factors, float16) cpu tensor from float64 values. */
export function f32(values: Float64Array, shape: readonly number[], dtype: FactorDType = 'float32'): Tensor {
  if (dtype === 'float16') return tensor(Uint16Array.from(values, float32ToFloat16Bits), [...shape], 'float16', { backend: 'cpu' });
  return tensor(Float32Array.from(values), [...shape], 'float32', { backend: 'cpu' });
}

/** Columns [0, r) of a matrix (a new matrix). */
export function leadingColumns(a: Matrix, r: number): Matrix {
  const out = matrix(a.rows, r);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < r; j++) out.data[i * r + j] = a.data[i * a.cols + j]!;
  return out;
}

/** Transpose of a matrix's values (a new Float64Array, cols×rows). */
export function transposed(a: Matrix): Float64Array {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j]!;
  return out;
}

/** Relative squared spectrum s²/total. */
export function relativeSpectrum(s: Float64Array, total: number): Float64Array {
  return Float64Array.from(s, (v) => (total > 0 ? (v * v) / total : 0));
}
