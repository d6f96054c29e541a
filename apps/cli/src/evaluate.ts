import type { Model } from '@whittle/graph';
import { type VariantResult, FidelityAccumulator, createOrtRunner, measureLatencyOrt, measureSize } from '@whittle/eval/node';
import type { LabeledSplit } from './data.js';

/** Logits of a model in onnxruntime-node over a split (batched). */
export async function ortLogits(bytes: Uint8Array, data: LabeledSplit, batchSize = 500): Promise<{ logits: Float32Array; classes: number }> {
  const runner = await createOrtRunner(bytes);
  try {
    const input = runner.inputNames[0]!;
    const per = data.sampleShape.reduce((a, b) => a * b, 1);
    const n = data.labels.length;
    const parts: Float32Array[] = [];
    let classes = 0;
    for (let s = 0; s < n; s += batchSize) {
      const m = Math.min(batchSize, n - s);
      const out = await runner.run({ [input]: { data: data.x.subarray(s * per, (s + m) * per), dims: [m, ...data.sampleShape] } });
      const o = out[runner.outputNames[0]!]!;
      classes = o.data.length / m;
      parts.push(Float32Array.from(o.data));
    }
    const logits = new Float32Array(n * classes);
    let off = 0;
    for (const p of parts) {
      logits.set(p, off);
      off += p.length;
    }
    return { logits, classes };
  } finally {
    await runner.release();
  }
}

/** Fraction of rows whose argmax equals the label. */
export function accuracyOf(logits: Float32Array, classes: number, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Options of {@link evaluateVariant}. */
export interface EvaluateVariantOptions {
  /** Baseline logits on the same split, for fidelity. */
  reference?: Float32Array;
  /** Time batch-1 / batch-N latency (default true). */
  latency?: boolean;
  model?: Model;
  path?: string;
}

/** Size, accuracy, fidelity and latency of one encoded model, all measured in onnxruntime-node. */
export async function evaluateVariant(name: string, technique: string, bytes: Uint8Array, data: LabeledSplit, opts: EvaluateVariantOptions = {}): Promise<VariantResult & { logits: Float32Array }> {
  const { logits, classes } = await ortLogits(bytes, data);
  const v: VariantResult & { logits: Float32Array } = {
    name,
    technique,
    size: measureSize(bytes, opts.model ? { model: opts.model } : {}),
    accuracy: accuracyOf(logits, classes, data.labels),
    logits,
  };
  if (opts.reference) v.fidelity = new FidelityAccumulator({ numClasses: classes }).add(opts.reference, logits).result();
  if (opts.latency !== false) v.latency = await measureLatencyOrt(bytes, { sampleShape: data.sampleShape, batchN: 64, runs: 30 });
  if (opts.path) v.path = opts.path;
  return v;
}
