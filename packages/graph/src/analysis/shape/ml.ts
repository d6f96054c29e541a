/**
 * Shape rules of the ai.onnx.ml ops skl2onnx writes in front of and around neural layers, so
 * shapes (and the FLOPs estimate built on them) flow from `float_input` through a Scaler into the
 * MatMuls of a scikit-learn pipeline. ZipMap's output is no tensor and gets no rule.
 */
import { getInt, getInts } from '../../ir/attributes.js';
import type { Dim } from '../../ir/types.js';
import { type RuleContext, registerShapeRule } from './rule.js';

const ML = 'ai.onnx.ml';

/** Float features of the input's shape: Scaler, Normalizer. */
for (const op of ['Scaler', 'Normalizer']) registerShapeRule(op, (c) => [{ elem: 'float32', shape: c.shape(0) }], ML);
/** Same element type and shape as the input: Binarizer, Imputer. */
for (const op of ['Binarizer', 'Imputer']) registerShapeRule(op, (c) => [{ elem: c.elem(0), shape: c.shape(0) }], ML);

/** Rows of a [N, F] (or [F]) input. */
function rows(c: RuleContext): Dim {
  const s = c.shape(0);
  return s && s.length === 2 ? s[0]! : s?.length === 1 ? 1 : null;
}

/** Number of classes a classifier declares (ints or strings). */
function classCount(c: RuleContext): number | undefined {
  const ints = getInts(c.node, 'classlabels_ints') ?? getInts(c.node, 'classlabels_int64s');
  if (ints) return ints.length;
  const s = c.node.attributes.get('classlabels_strings');
  return s?.type === 'strings' ? s.value.length : undefined;
}

/** Classifiers: labels [N] (int64, or string with string class labels) and scores [N, C]. */
for (const op of ['LinearClassifier', 'SVMClassifier', 'TreeEnsembleClassifier']) {
  registerShapeRule(op, (c) => {
    const n = rows(c);
    const k = classCount(c);
    return [
      { elem: c.node.attributes.has('classlabels_strings') ? 'string' : 'int64', shape: [n] },
      // a binary classifier may give one score column or two: unknown unless 3+ classes
      { elem: 'float32', shape: [n, k !== undefined && k > 2 ? k : null] },
    ];
  }, ML);
}

/** Regressors: [N, targets]. */
for (const op of ['LinearRegressor', 'SVMRegressor', 'TreeEnsembleRegressor']) {
  registerShapeRule(op, (c) => {
    const a = c.node.attributes.get('targets') ?? c.node.attributes.get('n_targets');
    return [{ elem: 'float32', shape: [rows(c), a?.type === 'int' ? a.value : 1] }];
  }, ML);
}

/** ArrayFeatureExtractor: X[..., indices] (the last axis indexed by every index given). */
registerShapeRule('ArrayFeatureExtractor', (c) => {
  const x = c.shape(0);
  const idx = c.shape(1);
  if (!x || !idx) return [{ elem: c.elem(0) }];
  const count = idx.reduce<Dim>((a, d) => (typeof a === 'number' && typeof d === 'number' ? a * d : null), 1);
  return [{ elem: c.elem(0), shape: x.length === 1 ? [1, count] : [...x.slice(0, -1), count] }];
}, ML);

/** TfIdfVectorizer (default domain, skl2onnx text pipelines): one float column per pool n-gram index, per row. */
registerShapeRule('TfIdfVectorizer', (c) => {
  const x = c.shape(0);
  const width = Math.max(-1, ...(getInts(c.node, 'ngram_indexes') ?? [])) + 1;
  return [{ elem: 'float32', shape: x ? (x.length === 1 ? [width] : [x[0]!, width]) : undefined }];
});

/** TreeEnsemble (ai.onnx.ml 5): [N, n_targets] in X's type. */
registerShapeRule('TreeEnsemble', (c) => [{ elem: c.elem(0), shape: [c.shape(0)?.[0] ?? null, getInt(c.node, 'n_targets', 1)] }], ML);
