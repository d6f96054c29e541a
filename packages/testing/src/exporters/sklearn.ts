/**
 * What skl2onnx (scikit-learn → ONNX) writes for small tabular models, with weights fitted in
 * code on a seeded synthetic data set so the models give non-trivial answers. Every graph has one
 * input `float_input` [N, F] float (N unknown, as `FloatTensorType([None, F])` writes it), imports
 * the default domain and `ai.onnx.ml` (version 1: Scaler, ZipMap, ArrayFeatureExtractor,
 * LinearClassifier, Normalizer and TreeEnsembleClassifier are all since version 1), IR version 10
 * with opset 21, producer `skl2onnx`. Classifiers answer `output_label` (int64 [N]) and
 * `output_probability`: a seq(map(int64, float)) through ZipMap, or with `zipmap: false` a float
 * tensor [N, C]. Value names are skl2onnx's (`variable`, `cast_input`, `coefficient`,
 * `intercepts`, `mul_result`, `add_result`, `next_activations`, `probabilities`, ...).
 */
import { type Graph, type Model, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import { f32, i64 } from './common.js';

/** Options shared by the skl2onnx fixtures. */
export interface SklearnOptions {
  /** Seed of the data set the weights are fitted on. */
  seed: number;
  /** Number of features F (default 8). */
  features?: number;
  /** Number of classes C of a classifier (default 3). */
  classes?: number;
  /** Wrap the probabilities in ZipMap (default true, skl2onnx's default). */
  zipmap?: boolean;
  /** Default-domain opset (default 21). */
  opset?: number;
}

/** A seeded tabular data set: features with very different scales, labels, regression targets. */
export interface SklearnDataset {
  /** Row-major [n, features] float32. */
  x: Float32Array;
  /** Class of each row, 0..classes-1. */
  y: Int32Array;
  /** A smooth nonlinear regression target per row. */
  target: Float32Array;
  n: number;
  features: number;
  classes: number;
}

/**
 * `n` rows drawn around one centre per class; feature j has mean 10·j − 20 and spread 1 + j, so
 * a StandardScaler in front of the model matters. Same seed, features and classes → same
 * centres, so rows drawn with another `rowSeed` come from the same distribution.
 */
export function sklearnDataset(seed: number, n: number, features = 8, classes = 3, rowSeed = seed): SklearnDataset {
  const centres = new Rng(seed * 7919 + 1);
  const mu = Float64Array.from({ length: classes * features }, () => centres.normal() * 1.2);
  const rng = new Rng(rowSeed * 104729 + 17);
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  const target = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    y[i] = c;
    let t = 0;
    for (let j = 0; j < features; j++) {
      const z = mu[c * features + j]! + rng.normal();
      x[i * features + j] = 10 * j - 20 + (1 + j) * z;
      t += Math.sin(z) * (j % 3 === 0 ? 1 : 0.5) + 0.3 * z * z * (j === 1 ? 1 : 0);
    }
    target[i] = t;
  }
  return { x, y, target, n, features, classes };
}

function standardize(d: SklearnDataset): { mean: Float64Array; std: Float64Array; z: Float64Array } {
  const { n, features: f } = d;
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j]! += d.x[i * f + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) std[j]! += (d.x[i * f + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(std[j]!);
  const z = new Float64Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) z[i * f + j] = (d.x[i * f + j]! - mean[j]!) / std[j]!;
  return { mean, std, z };
}

/** A dense layer's weights [inDim, outDim] (sklearn's coefs_ layout) and bias. */
interface Layer { w: Float64Array; b: Float64Array; inDim: number; outDim: number }

/**
 * Fit a ReLU MLP by full-batch gradient descent: softmax cross-entropy when `classes` is given,
 * squared error on `target` otherwise. A hundred steps on a few hundred rows: about a second for [8, 64, 32, 3].
 */
function fitMlp(z: Float64Array, n: number, dims: number[], rng: Rng, labels: { y: Int32Array } | { target: Float32Array }, steps = 300, lr = 0.1): Layer[] {
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l]!;
    const outDim = dims[l + 1]!;
    const std = Math.sqrt(2 / inDim);
    layers.push({ w: Float64Array.from({ length: inDim * outDim }, () => rng.normal() * std), b: new Float64Array(outDim), inDim, outDim });
  }
  for (let s = 0; s < steps; s++) {
    const acts: Float64Array[] = [z];
    for (let l = 0; l < layers.length; l++) {
      const { w, b, inDim, outDim } = layers[l]!;
      const a = acts[l]!;
      const o = new Float64Array(n * outDim);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < outDim; k++) {
          let v = b[k]!;
          for (let j = 0; j < inDim; j++) v += a[i * inDim + j]! * w[j * outDim + k]!;
          o[i * outDim + k] = l + 1 < layers.length ? Math.max(v, 0) : v;
        }
      }
      acts.push(o);
    }
    const out = acts[layers.length]!;
    const last = layers[layers.length - 1]!.outDim;
    let g = new Float64Array(n * last);
    if ('y' in labels) {
      for (let i = 0; i < n; i++) {
        let m = -Infinity;
        for (let k = 0; k < last; k++) m = Math.max(m, out[i * last + k]!);
        let sum = 0;
        for (let k = 0; k < last; k++) sum += Math.exp(out[i * last + k]! - m);
        for (let k = 0; k < last; k++) g[i * last + k] = (Math.exp(out[i * last + k]! - m) / sum - (labels.y[i] === k ? 1 : 0)) / n;
      }
    } else {
      for (let i = 0; i < n; i++) g[i] = (out[i]! - labels.target[i]!) / n;
    }
    for (let l = layers.length - 1; l >= 0; l--) {
      const { w, b, inDim, outDim } = layers[l]!;
      const a = acts[l]!;
      const gin = new Float64Array(n * inDim);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < outDim; k++) {
          const gk = g[i * outDim + k]!;
          if (gk === 0) continue;
          b[k]! -= lr * gk;
          for (let j = 0; j < inDim; j++) {
            gin[i * inDim + j]! += gk * w[j * outDim + k]!;
            w[j * outDim + k]! -= lr * gk * a[i * inDim + j]!;
          }
        }
      }
      if (l > 0) for (let q = 0; q < gin.length; q++) if (a[q]! <= 0) gin[q] = 0;
      g = gin;
    }
  }
  return layers;
}

/** seq(map(int64, tensor(float))) as an encoded onnx.TypeProto: ZipMap's output type. */
const SEQ_MAP_INT64_FLOAT = Uint8Array.of(
  0x22, 0x0c, // sequence_type (4), 12 bytes
  0x0a, 0x0a, //   elem_type (1): TypeProto, 10 bytes
  0x2a, 0x08, //     map_type (5), 8 bytes
  0x08, 0x07, //       key_type (1) = INT64
  0x12, 0x04, //       value_type (2): TypeProto, 4 bytes
  0x0a, 0x02, 0x08, 0x01, // tensor_type (1) { elem_type (1) = FLOAT }
);

const ML = 'ai.onnx.ml';

function model(b: GraphBuilder, opset: number): Model {
  return b.model([{ domain: '', version: opset }, { domain: ML, version: 1 }], { irVersion: opset >= 21 ? 10 : opset >= 19 ? 9 : 8, producerName: 'skl2onnx', producerVersion: '1.17.0', domain: 'ai.onnx', modelVersion: 0 });
}

/** Scaler (ai.onnx.ml) as skl2onnx writes StandardScaler: offset = mean_, scale = 1 / scale_. */
function scaler(b: GraphBuilder, x: string, mean: Float64Array, std: Float64Array, out: string): string {
  return b.node('Scaler', [x], { offset: Array.from(mean), scale: Array.from(std, (s) => 1 / s) }, { name: 'Scaler', domain: ML, outputNames: [out], floatAttrs: ['offset', 'scale'] });
}

/** The classifier tail: label and probabilities to `output_label` / `output_probability`. */
function classifierOutputs(b: GraphBuilder, label: string, probabilities: string, classes: number, zipmap: boolean): void {
  if (zipmap) {
    b.node('Cast', [label], { to: 7 }, { name: 'Cast1', outputNames: ['output_label'] });
    b.node('ZipMap', [probabilities], { classlabels_int64s: Array.from({ length: classes }, (_, k) => k) }, { name: 'ZipMap', domain: ML, outputNames: ['output_probability'] });
  }
  b.output('output_label', 'int64', [null]);
  const g: Graph = b.build();
  if (zipmap) g.outputs.push({ name: 'output_probability', type: { kind: 'sequence', raw: SEQ_MAP_INT64_FLOAT } });
  else b.output('output_probability', 'float32', [null, classes]);
}

function mlpLayers(b: GraphBuilder, x: string, layers: Layer[], hidden: 'Relu', last: 'Softmax' | 'Identity'): string {
  let h = b.node('Cast', [x], { to: 1 }, { name: 'Cast', outputNames: ['cast_input'] });
  layers.forEach((L, i) => {
    const sfx = i === 0 ? '' : String(i);
    const w = b.initializer(`coefficient${sfx}`, f32(Float32Array.from(L.w), [L.inDim, L.outDim]));
    const bias = b.initializer(`intercepts${sfx}`, f32(Float32Array.from(L.b), [1, L.outDim]));
    const m = b.node('MatMul', [h, w], {}, { name: `MatMul${sfx}`, outputNames: [`mul_result${sfx}`] });
    h = b.node('Add', [m, bias], {}, { name: `Add${sfx}`, outputNames: [`add_result${sfx}`] });
    if (i + 1 < layers.length) h = b.node(hidden, [h], {}, { name: `${hidden}${sfx}`, outputNames: [`next_activations${sfx}`] });
  });
  // skl2onnx names the output activation node after the hidden activation (`Relu<k>`)
  return b.node(last, [h], {}, { name: `${hidden}${layers.length - 1}`, outputNames: ['out_activations_result'] });
}

/** Fitted classifiers by seed/features/classes/hidden: the zipmap and tensor variants share one fit. */
const FITTED_CLASSIFIERS = new Map<string, { mean: Float64Array; std: Float64Array; layers: Layer[] }>();

/**
 * `Pipeline([('scaler', StandardScaler()), ('mlp', MLPClassifier(hidden_layer_sizes=hidden))])`
 * as skl2onnx converts it: Scaler → Cast → (MatMul + Add[1, H] → Relu)* → MatMul + Add →
 * Softmax → Identity (`probabilities`); labels as ArgMax(axis 1) → ArrayFeatureExtractor over an
 * int32 `classes` initializer → Reshape [-1] → Cast int64; then Cast + ZipMap, or with
 * `zipmap: false` the tensors themselves. Default hidden layers [64, 32]; fitted on {@link sklearnDataset}(seed, 256).
 */
export function sklearnMlpClassifier(options: SklearnOptions & { hidden?: number[] }): Model {
  const { seed, features = 8, classes = 3, zipmap = true, opset = 21, hidden = [64, 32] } = options;
  const key = `${seed}/${features}/${classes}/${hidden.join('x')}`;
  let fitted = FITTED_CLASSIFIERS.get(key);
  if (!fitted) {
    const data = sklearnDataset(seed, 256, features, classes);
    const { mean, std, z } = standardize(data);
    fitted = { mean, std, layers: fitMlp(z, data.n, [features, ...hidden, classes], new Rng(seed), { y: data.y }, 100, 0.2) };
    FITTED_CLASSIFIERS.set(key, fitted);
  }
  const { mean, std, layers } = fitted;
  const b = new GraphBuilder('pipeline_mlp');
  const x = b.input('float_input', 'float32', [null, features]);
  const scaled = scaler(b, x, mean, std, 'variable');
  const p = mlpLayers(b, scaled, layers, 'Relu', 'Softmax');
  const probabilities = b.node('Identity', [p], {}, { name: 'Identity', outputNames: [zipmap ? 'probabilities' : 'output_probability'] });
  const cls = b.initializer('classes', tensor(Int32Array.from({ length: classes }, (_, k) => k), [classes], 'int32', { backend: 'cpu' }));
  const am = b.node('ArgMax', [probabilities], { axis: 1 }, { name: 'ArgMax', outputNames: ['argmax_output'] });
  const afe = b.node('ArrayFeatureExtractor', [cls, am], {}, { name: 'ArrayFeatureExtractor', domain: ML, outputNames: ['array_feature_extractor_result'] });
  const reshaped = b.node('Reshape', [afe, b.initializer('shape_tensor', i64([-1]))], {}, { name: 'Reshape', outputNames: ['reshaped_result'] });
  const label = b.node('Cast', [reshaped], { to: 7 }, { name: 'Cast2', outputNames: [zipmap ? 'label' : 'output_label'] });
  classifierOutputs(b, label, probabilities, classes, zipmap);
  return model(b, opset);
}

/**
 * `Pipeline([('scaler', StandardScaler()), ('mlp', MLPRegressor(hidden_layer_sizes=hidden))])`
 * as skl2onnx converts it: Scaler → Cast → (MatMul + Add → Relu)* → MatMul + Add → Identity →
 * Reshape [-1, 1] → `variable` [N, 1]. Fitted on the data set's regression target.
 */
export function sklearnMlpRegressor(options: Omit<SklearnOptions, 'classes' | 'zipmap'> & { hidden?: number[] }): Model {
  const { seed, features = 8, opset = 21, hidden = [64, 32] } = options;
  const data = sklearnDataset(seed, 256, features);
  const { mean, std, z } = standardize(data);
  const layers = fitMlp(z, data.n, [features, ...hidden, 1], new Rng(seed), { target: data.target }, 100, 0.05);
  const b = new GraphBuilder('pipeline_mlp_regressor');
  const x = b.input('float_input', 'float32', [null, features]);
  const scaled = scaler(b, x, mean, std, 'variable1');
  const y = mlpLayers(b, scaled, layers, 'Relu', 'Identity');
  b.node('Reshape', [y, b.initializer('shape_tensor', i64([-1, 1]))], {}, { name: 'Reshape', outputNames: ['variable'] });
  b.output('variable', 'float32', [null, 1]);
  return model(b, opset);
}

/**
 * `Pipeline([('scaler', StandardScaler()), ('lr', LogisticRegression())])` with C ≥ 3 classes
 * (multinomial) as skl2onnx converts it: Scaler → LinearClassifier (ai.onnx.ml; coefficients
 * and intercepts are attributes, multi_class 1, post_transform SOFTMAX) → Normalizer L1 →
 * Cast + ZipMap. No initializer at all: every weight is a node attribute.
 */
export function sklearnLogisticRegression(options: SklearnOptions): Model {
  const { seed, features = 8, classes = 3, zipmap = true, opset = 21 } = options;
  const data = sklearnDataset(seed, 384, features, classes);
  const { mean, std, z } = standardize(data);
  const [L] = fitMlp(z, data.n, [features, classes], new Rng(seed), { y: data.y }, 200, 0.5);
  const coefficients: number[] = [];
  for (let k = 0; k < classes; k++) for (let j = 0; j < features; j++) coefficients.push(L!.w[j * classes + k]!);
  const b = new GraphBuilder('pipeline_lr');
  const x = b.input('float_input', 'float32', [null, features]);
  const scaled = scaler(b, x, mean, std, 'variable');
  const [label, prob] = b.nodeOutputs('LinearClassifier', [scaled], {
    classlabels_ints: Array.from({ length: classes }, (_, k) => k), coefficients, intercepts: Array.from(L!.b), multi_class: 1, post_transform: 'SOFTMAX',
  }, { name: 'LinearClassifier', domain: ML, outputNames: [zipmap ? 'label' : 'output_label', 'probability_tensor'], floatAttrs: ['coefficients', 'intercepts'] });
  const probabilities = b.node('Normalizer', [prob!], { norm: 'L1' }, { name: 'Normalizer', domain: ML, outputNames: [zipmap ? 'probabilities' : 'output_probability'] });
  classifierOutputs(b, label!, probabilities, classes, zipmap);
  return model(b, opset);
}

/**
 * `DecisionTreeClassifier(max_depth=depth)` as skl2onnx converts it: one TreeEnsembleClassifier
 * (ai.onnx.ml; thresholds, leaf weights and class ids as attributes, BRANCH_LEQ, probabilities
 * in the leaves) → Cast + ZipMap. A pure ai.onnx.ml graph without a float initializer: nothing
 * a weight-compression technique compresses. Grown greedily by Gini impurity on the data set.
 */
export function sklearnDecisionTree(options: SklearnOptions & { depth?: number }): Model {
  const { seed, features = 8, classes = 3, zipmap = true, opset = 21, depth = 4 } = options;
  const d = sklearnDataset(seed, 384, features, classes);
  interface TreeNode { feature: number; threshold: number; left: number; right: number; probs?: number[] }
  const nodes: TreeNode[] = [];
  const grow = (rows: number[], level: number): number => {
    const id = nodes.length;
    const counts = new Array<number>(classes).fill(0);
    for (const r of rows) counts[d.y[r]!]!++;
    const leaf = (): number => {
      nodes[id] = { feature: 0, threshold: 0, left: 0, right: 0, probs: counts.map((c) => c / rows.length) };
      return id;
    };
    nodes.push({ feature: 0, threshold: 0, left: 0, right: 0 });
    if (level === depth || counts.some((c) => c === rows.length)) return leaf();
    const gini = (c: number[], n: number): number => (n === 0 ? 0 : 1 - c.reduce((a, v) => a + (v / n) ** 2, 0));
    let best = { score: gini(counts, rows.length) - 1e-9, feature: -1, threshold: 0 };
    for (let f = 0; f < features; f++) {
      const sorted = [...rows].sort((a, c) => d.x[a * features + f]! - d.x[c * features + f]!);
      const left = new Array<number>(classes).fill(0);
      for (let k = 0; k + 1 < sorted.length; k++) {
        left[d.y[sorted[k]!]!]!++;
        const v = d.x[sorted[k]! * features + f]!;
        const next = d.x[sorted[k + 1]! * features + f]!;
        if (v === next) continue;
        const nl = k + 1;
        const score = (nl * gini(left, nl) + (rows.length - nl) * gini(counts.map((c, q) => c - left[q]!), rows.length - nl)) / rows.length;
        if (score < best.score) best = { score, feature: f, threshold: Math.fround((v + next) / 2) };
      }
    }
    if (best.feature < 0) return leaf();
    const l = rows.filter((r) => d.x[r * features + best.feature]! <= best.threshold);
    const r = rows.filter((q) => d.x[q * features + best.feature]! > best.threshold);
    nodes[id] = { feature: best.feature, threshold: best.threshold, left: grow(l, level + 1), right: grow(r, level + 1) };
    return id;
  };
  grow(Array.from({ length: d.n }, (_, i) => i), 0);
  const attrs = {
    class_ids: [] as number[], class_nodeids: [] as number[], class_treeids: [] as number[], class_weights: [] as number[],
    nodes_featureids: [] as number[], nodes_modes: [] as string[], nodes_nodeids: [] as number[], nodes_treeids: [] as number[],
    nodes_truenodeids: [] as number[], nodes_falsenodeids: [] as number[], nodes_values: [] as number[],
    nodes_hitrates: [] as number[], nodes_missing_value_tracks_true: [] as number[],
  };
  nodes.forEach((n, id) => {
    attrs.nodes_nodeids.push(id);
    attrs.nodes_treeids.push(0);
    attrs.nodes_featureids.push(n.feature);
    attrs.nodes_values.push(n.threshold);
    attrs.nodes_hitrates.push(1);
    attrs.nodes_missing_value_tracks_true.push(0);
    attrs.nodes_modes.push(n.probs ? 'LEAF' : 'BRANCH_LEQ');
    attrs.nodes_truenodeids.push(n.probs ? 0 : n.left);
    attrs.nodes_falsenodeids.push(n.probs ? 0 : n.right);
    if (n.probs) {
      n.probs.forEach((p, k) => {
        attrs.class_ids.push(k);
        attrs.class_nodeids.push(id);
        attrs.class_treeids.push(0);
        attrs.class_weights.push(p);
      });
    }
  });
  const b = new GraphBuilder('decision_tree');
  const x = b.input('float_input', 'float32', [null, features]);
  const [label, probabilities] = b.nodeOutputs('TreeEnsembleClassifier', [x], {
    ...attrs, classlabels_int64s: Array.from({ length: classes }, (_, k) => k), post_transform: 'NONE',
  }, { name: 'TreeEnsembleClassifier', domain: ML, outputNames: [zipmap ? 'label' : 'output_label', zipmap ? 'probabilities' : 'output_probability'], floatAttrs: ['class_weights', 'nodes_values', 'nodes_hitrates'] });
  classifierOutputs(b, label!, probabilities!, classes, zipmap);
  return model(b, opset);
}

/** Rows of {@link sklearnDataset} as a float32 tensor [n, F] (for feeding the fixtures). */
export function sklearnRows(seed: number, n: number, features = 8, classes = 3, rowSeed = seed + 1000): Tensor {
  return f32(sklearnDataset(seed, n, features, classes, rowSeed).x, [n, features]);
}
