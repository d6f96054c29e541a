import type { OpRule } from './rule.js';

/**
 * Ops onnxruntime registers in the default ONNX domain from version 1 on, which its graph
 * optimizer writes into models of any opset (an Optimum- or ORT-optimized export at opset 14
 * carries LayerNormalization; onnxruntime-genai's builder writes SimplifiedLayerNormalization).
 * onnxruntime resolves them by that since-version, so they keep working at every target.
 *
 * - LayerNormalization below 17 is onnxruntime's own: X, Scale, optional B → Y, optional Mean and
 *   InvStdDev, with axis, epsilon and stash_type — the signature and semantics ONNX adopted at 17.
 *   From 17 on the standard op resolves instead, with identical results.
 * - SimplifiedLayerNormalization (RMS normalization) has no standard counterpart to convert to;
 *   onnxruntime keeps resolving its since-1 kernel at any opset, so the node stays as it is.
 */
export const ORT_DEFAULT_DOMAIN_RULES: Readonly<Record<string, OpRule>> = {
  LayerNormalization: { since: 1 },
  SimplifiedLayerNormalization: { since: 1 },
};
