import { subgraphsOf } from '../ir/attributes.js';
import type { Graph, Model } from '../ir/types.js';

/**
 * ai.onnx.ml estimators, which hold what was learned (coefficients, support vectors, split
 * thresholds, leaf values) in float attributes rather than in initializers.
 */
const ML_ESTIMATORS = new Set([
  'LinearClassifier', 'LinearRegressor', 'SVMClassifier', 'SVMRegressor', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'TreeEnsemble',
]);

/**
 * Estimators of a model whose learned parameters are node attributes (ai.onnx.ml, as skl2onnx
 * writes logistic regressions, SVMs and tree ensembles), by op type, with the number of floats
 * they hold (subgraphs included). Whittle's compression passes work on float initializers read by
 * MatMul/Gemm/Conv/Gather, so these parameters are out of their reach.
 */
export function attributeWeightLayers(model: Model): Record<string, { nodes: number; floats: number }> {
  const out: Record<string, { nodes: number; floats: number }> = {};
  const visit = (g: Graph): void => {
    for (const n of g.nodes) {
      if (n.domain === 'ai.onnx.ml' && ML_ESTIMATORS.has(n.opType)) {
        let floats = 0;
        for (const a of n.attributes.values()) {
          if (a.type === 'floats') floats += a.value.length;
          else if (a.type === 'tensor' && 'dtype' in a.value && (a.value.dtype === 'float32' || a.value.dtype === 'float16')) floats += a.value.size;
        }
        const e = (out[n.opType] ??= { nodes: 0, floats: 0 });
        e.nodes++;
        e.floats += floats;
      }
      for (const s of subgraphsOf(n)) visit(s);
    }
  };
  visit(model.graph);
  return out;
}
