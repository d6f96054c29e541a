/**
 * Shape rules of onnxruntime's fused transformer ops (com.microsoft FusedMatMul, FusedGemm, the GELU family,
 * SkipLayerNormalization, EmbedLayerNormalization) and of the layer normalizations it registers in
 * the default domain (LayerNormalization's Mean/InvStdDev outputs, SimplifiedLayerNormalization),
 * so shapes — and the FLOPs estimate built on them — flow through an onnxruntime-optimized graph.
 */
import { getInt } from '../../ir/attributes.js';
import type { Dim } from '../../ir/types.js';
import { normAxis } from './dims.js';
import { type OutInfo, type RuleContext, getShapeRule, registerShapeRule } from './rule.js';
import './linear.js';

const MS = 'com.microsoft';

/** An operand's shape as FusedMatMul multiplies it (transBatch: axis 0 before the last; trans: last two swapped). */
function arranged(s: readonly Dim[], trans: boolean, transBatch: boolean): Dim[] {
  const r = s.length;
  if (r < 2) return [...s];
  const perm = transBatch ? [...Array.from({ length: r - 2 }, (_, i) => i + 1), 0, r - 1] : Array.from({ length: r }, (_, i) => i);
  if (trans) [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return perm.map((p) => s[p]!);
}

/** FusedMatMul: MatMul's rule on the arranged operands (alpha scales values only). */
registerShapeRule(
  'FusedMatMul',
  (c) => {
    const a = c.shape(0);
    const b = c.shape(1);
    if (!a || !b) return [{ elem: c.elem(0) }];
    const flag = (n: string): boolean => getInt(c.node, n, 0) !== 0;
    const shapes = [arranged(a, flag('transA'), flag('transBatchA')), arranged(b, flag('transB'), flag('transBatchB'))];
    const view: RuleContext = { ...c, shape: (i) => shapes[i], has: (i) => i < 2 && c.has(i) };
    return getShapeRule('MatMul')!(view);
  },
  MS,
);

/** FusedGemm: Gemm's rule (the fused activation is element-wise). */
registerShapeRule('FusedGemm', (c) => getShapeRule('Gemm')!(c), MS);

const sameAsInput = (c: RuleContext): OutInfo[] => [{ elem: c.elem(0), shape: c.shape(0) }];
for (const op of ['BiasGelu', 'FastGelu', 'Gelu', 'QuickGelu']) registerShapeRule(op, sameAsInput, MS);

/** The input's shape with the axes from `axis` on reduced to 1 (saved mean / inverse std). */
function reducedFrom(s: readonly Dim[] | undefined, axis: number): Dim[] | undefined {
  if (!s) return undefined;
  const a = normAxis(axis, s.length);
  return a === undefined ? undefined : s.map((d, i) => (i < a ? d : 1));
}

/** LayerNormalization (onnxruntime's since-1 and ONNX 17): Y as X; Mean and InvStdDev reduced from axis, float. */
registerShapeRule('LayerNormalization', (c) => {
  const stats = { elem: 'float32' as const, shape: reducedFrom(c.shape(0), getInt(c.node, 'axis', -1)) };
  return [{ elem: c.elem(0), shape: c.shape(0) }, stats, stats];
});

/** SimplifiedLayerNormalization (onnxruntime, default domain): Y as X, inv_std_var reduced from axis. */
registerShapeRule('SimplifiedLayerNormalization', (c) => [
  { elem: c.elem(0), shape: c.shape(0) },
  { elem: 'float32', shape: reducedFrom(c.shape(0), getInt(c.node, 'axis', -1)) },
]);

/** SkipLayerNormalization: output and input_skip_bias_sum as input; mean and inv_std_var [..., 1]. */
registerShapeRule(
  'SkipLayerNormalization',
  (c) => {
    const stats = { elem: 'float32' as const, shape: reducedFrom(c.shape(0), -1) };
    return [{ elem: c.elem(0), shape: c.shape(0) }, stats, stats, { elem: c.elem(0), shape: c.shape(0) }];
  },
  MS,
);

/** EmbedLayerNormalization: output and embedding_sum [B, S, hidden] (hidden from the word table), mask_index int32 [B]. */
registerShapeRule(
  'EmbedLayerNormalization',
  (c) => {
    const ids = c.shape(0);
    const table = c.shape(2);
    const hidden: Dim = table?.length === 2 ? table[1]! : null;
    const out = ids?.length === 2 ? { elem: c.elem(2), shape: [ids[0]!, ids[1]!, hidden] } : { elem: c.elem(2) };
    return [out, { elem: 'int32', shape: ids?.length === 2 ? [ids[0]!] : undefined }, out];
  },
  MS,
);
