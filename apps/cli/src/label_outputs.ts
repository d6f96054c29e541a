/**
 * Classifier outputs that hold predicted labels rather than scores: skl2onnx's `output_label`
 * (int64 [N]) beside probabilities that are a ZipMap sequence of maps, which onnxruntime-node
 * cannot return. Evaluation reads such a label vector as one-hot scores over the model's class
 * labels, so accuracy and top-1 agreement compare labels and the fidelity numbers stay meaningful.
 */
import type { Model } from '@whittle/graph';

const INTEGER_TYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8']);

/**
 * Width of the one-hot rows a label output becomes: one more than the largest integer class label
 * an ai.onnx.ml classifier of the model declares (ZipMap `classlabels_int64s`, LinearClassifier /
 * SVMClassifier `classlabels_ints`, TreeEnsembleClassifier `classlabels_int64s`), or an integer
 * `classes` table read by ArrayFeatureExtractor (skl2onnx's MLPClassifier). Undefined when the
 * model declares none, or a label is negative or too large to one-hot.
 */
export function classLabelCount(model: Model): number | undefined {
  let max = -1;
  for (const n of model.graph.nodes) {
    if (n.domain !== 'ai.onnx.ml') continue;
    for (const key of ['classlabels_int64s', 'classlabels_ints']) {
      const a = n.attributes.get(key);
      if (a?.type === 'ints') for (const v of a.value) max = Math.max(max, v < 0 ? Infinity : v);
    }
    if (n.opType === 'ArrayFeatureExtractor') {
      const t = model.graph.initializers.get(n.inputs[0] ?? '');
      if (t && (t.dtype === 'int32' || t.dtype === 'int64')) {
        const d = t.dataSync() as ArrayLike<number | bigint>;
        for (let i = 0; i < d.length; i++) max = Math.max(max, Number(d[i]) < 0 ? Infinity : Number(d[i]));
      }
    }
  }
  return max >= 0 && max < 4096 ? max + 1 : undefined;
}

/** Is an output of this type and shape a vector of predicted labels ([N] or [N, 1] integers)? */
export function isLabelVector(type: string, dims: readonly number[]): boolean {
  return INTEGER_TYPES.has(type) && (dims.length === 1 || (dims.length === 2 && dims[1] === 1));
}

/** Labels as one-hot rows [N, classes] (a label outside 0..classes-1 gives an all-zero row). */
export function labelsAsScores(labels: Float32Array, classes: number): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (Number.isInteger(c) && c >= 0 && c < classes) data[i * classes + c] = 1;
  }
  return { data, dims: [labels.length, classes] };
}

/**
 * The output evaluation reads when none is named: the first tensor output, except that predicted
 * labels (an integer output) give way to a later float output of the same model (the class scores
 * skl2onnx writes beside them with zipmap=False), which fidelity and accuracy read better.
 */
export function defaultOutput(outputNames: readonly string[], outputTypes: ReadonlyMap<string, string>): string | undefined {
  const first = outputNames[0];
  if (first === undefined || !INTEGER_TYPES.has(outputTypes.get(first) ?? '')) return first;
  return outputNames.find((n) => outputTypes.get(n) === 'float32' || outputTypes.get(n) === 'float16') ?? first;
}
