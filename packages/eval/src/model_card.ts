/** Model cards (Markdown) for a compressed variant, from an evaluation report. */
import { ArgumentError } from '@whittle/tensor';
import { lmSettingsLine } from './lm/evaluate.js';
import { type EvaluationReport, datasetLine, formatBytes, formatMetric, taskLine } from './report.js';

/** Options of {@link modelCard}. */
export interface ModelCardOptions {
  /** The variant the card describes (default: the smallest variant on the Pareto front). */
  variant?: string;
  /** Title of the card (default: the variant name). */
  modelName?: string;
  /** What the model does, e.g. 'Handwritten digit classifier (LeNet-300-100), 10 classes.' */
  description?: string;
  /** Training data of the original model and of any fine-tuning/calibration. */
  trainingData?: string;
  /** Intended use. */
  intendedUse?: string;
  /** Limitations beyond the ones derived from the measurements. */
  limitations?: readonly string[];
  license?: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/**
 * A model card: technique, data, metrics (size, ratio, accuracy and its change, fidelity,
 * latency), and limitations (stated ones plus those that follow from the measurements).
 */
export function modelCard(report: EvaluationReport, opts: ModelCardOptions = {}): string {
  const name = opts.variant ?? report.paretoFront[0] ?? report.rows[report.rows.length - 1]!.name;
  const v = report.rows.find((r) => r.name === name);
  if (!v) throw new ArgumentError(`modelCard: variant '${name}' is not in the report (${report.rows.map((r) => r.name).join(', ')})`);
  const base = report.rows.find((r) => r.name === report.baseline)!;
  const L: string[] = [`# Model card: ${opts.modelName ?? v.name}`, ''];
  if (opts.description) L.push(opts.description, '');
  L.push('## Technique', '', `${v.technique}. Compressed with Whittle from \`${base.name}\` (${base.technique}).`, '');
  L.push('## Data', '');
  if (report.dataset) L.push(`- Evaluation: ${datasetLine(report.dataset)}.`);
  else L.push('- Evaluation data: not stated.');
  if (report.task) L.push(`- Task and metric: ${taskLine(report.task)}.`);
  if (report.lm) L.push(`- LM evaluation: ${lmSettingsLine(report.lm)}.`);
  L.push(`- Training / calibration: ${opts.trainingData ?? 'not stated.'}`, '');
  L.push('## Metrics', '', '| Metric | This model | Baseline |', '|---|---:|---:|');
  L.push(`| File size | ${formatBytes(v.size.fileBytes)} | ${formatBytes(base.size.fileBytes)} |`);
  L.push(`| Gzip size | ${formatBytes(v.size.gzipBytes)} | ${formatBytes(base.size.gzipBytes)} |`);
  L.push(`| Compression ratio (${report.sizeBasis === 'fileBytes' ? 'file' : 'gzip'}) | ${v.ratio.toFixed(2)}× | 1× |`);
  L.push(`| Parameters | ${v.size.parameters} | ${base.size.parameters} |`);
  L.push(`| Weight sparsity | ${pct(v.size.sparsity)} | ${pct(base.size.sparsity)} |`);
  if (v.size.flops > 0) L.push(`| FLOPs per sample (est.) | ${v.size.flops} | ${base.size.flops} |`);
  if (v.size.macs > 0) L.push(`| Multiply-adds per sample (est.) | ${v.size.macs} | ${base.size.macs} |`);
  if (v.accuracy !== undefined) L.push(`| Accuracy | ${pct(v.accuracy)} | ${base.accuracy !== undefined ? pct(base.accuracy) : '–'} |`);
  if (v.deltaPt !== undefined) L.push(`| Accuracy change | ${v.deltaPt >= 0 ? '+' : ''}${v.deltaPt.toFixed(2)} pt | — |`);
  const f = v.fidelity;
  if (f) {
    if (f.top1Agreement !== undefined) L.push(`| Top-1 agreement with baseline | ${pct(f.top1Agreement)} | 100 % |`);
    L.push(`| Output cosine similarity | ${f.cosine.toFixed(5)} | 1 |`);
    L.push(`| Output SQNR | ${Number.isFinite(f.sqnrDb) ? `${f.sqnrDb.toFixed(1)} dB` : String(f.sqnrDb)} | ∞ |`);
    L.push(`| Max abs output error | ${f.maxAbsError.toExponential(2)} | 0 |`);
  }
  for (const [k, x] of Object.entries(v.metrics ?? {})) L.push(`| ${k} | ${formatMetric(x)} | ${formatMetric(base.metrics?.[k])} |`);
  if (v.latency) {
    const b = base.latency;
    L.push(`| Latency p50 / p90, batch 1 (ms) | ${v.latency.batch1.p50Ms.toFixed(3)} / ${v.latency.batch1.p90Ms.toFixed(3)} | ${b ? `${b.batch1.p50Ms.toFixed(3)} / ${b.batch1.p90Ms.toFixed(3)}` : '–'} |`);
    const n = v.latency.batchN;
    if (n) L.push(`| Latency p50 / p90, batch ${n.batchSize} (ms) | ${n.p50Ms.toFixed(3)} / ${n.p90Ms.toFixed(3)} | ${b?.batchN ? `${b.batchN.p50Ms.toFixed(3)} / ${b.batchN.p90Ms.toFixed(3)}` : '–'} |`);
    const vs = v.latency.vsBaseline;
    if (vs) {
      L.push(`| Speed vs baseline, batch 1 (same run) | ${vs.batch1.speedup.toFixed(2)}× (${vs.batch1.medianMs.toFixed(3)} ms) | 1× (${vs.batch1.baselineMs.toFixed(3)} ms) |`);
      if (vs.batchN) L.push(`| Speed vs baseline, batch ${vs.batchN.batchSize} (same run) | ${vs.batchN.speedup.toFixed(2)}× (${vs.batchN.medianMs.toFixed(3)} ms) | 1× (${vs.batchN.baselineMs.toFixed(3)} ms) |`);
    }
  }
  L.push('');
  if (opts.intendedUse) L.push('## Intended use', '', opts.intendedUse, '');
  L.push('## Limitations', '');
  const lim = [...(opts.limitations ?? [])];
  if (report.dataset?.dataFree) lim.push('Measured on synthetic (data-free) inputs: the figures show how far the outputs moved, not how well the model does its task.');
  if (v.accuracy === undefined) lim.push('Accuracy was not measured for this variant.');
  else if (v.deltaPt !== undefined && v.deltaPt < 0) lim.push(`Accuracy is ${(-v.deltaPt).toFixed(2)} pt lower than the baseline on the evaluation data; other data may show a different gap.`);
  if (report.dataset?.count !== undefined) {
    const n = report.dataset.count;
    const se = v.accuracy !== undefined ? Math.sqrt((v.accuracy * (1 - v.accuracy)) / n) : undefined;
    lim.push(`Measured on ${n} samples${se !== undefined ? ` (standard error of the accuracy ≈ ${(se * 100).toFixed(2)} pt)` : ''}.`);
  }
  if (f?.top1Agreement !== undefined && f.top1Agreement < 1) lim.push(`Predictions differ from the baseline's on ${((1 - f.top1Agreement) * 100).toFixed(2)} % of the evaluation samples.`);
  if (v.size.sparsity > 0.5 && v.ratio < 1 / (1 - v.size.sparsity)) lim.push('Zero weights are stored densely: the file is not smaller by the sparsity; gzip captures part of it.');
  const m = v.metrics ?? {};
  const identical = Object.keys(m).find((k) => k.startsWith('greedyIdentical@'));
  if (identical && v.name !== base.name && m[identical]! < 1) lim.push(`Greedy generation differs from the baseline's within ${identical.split('@')[1]} tokens for ${((1 - m[identical]!) * 100).toFixed(0)} % of the prompts (agreeing prefix ${formatMetric(m.greedyAgreeingPrefix)} tokens on average).`);
  if (m.decodeSpeedVsBase !== undefined && v.name !== base.name && m.decodeSpeedVsBase < 0.95) lim.push(`Decoding with the KV cache is slower than the baseline's (${m.decodeSpeedVsBase.toFixed(2)}× the tokens/s): smaller, not faster, in onnxruntime-node on this machine.`);
  if (v.latency?.vsBaseline?.slower) lim.push(`In ${v.latency.runtime} this variant runs slower than the baseline (${v.latency.vsBaseline.batch1.speedup.toFixed(2)}× at batch 1${v.latency.vsBaseline.batchN ? `, ${v.latency.vsBaseline.batchN.speedup.toFixed(2)}× at batch ${v.latency.vsBaseline.batchN.batchSize}` : ''}): it is smaller, not faster.`);
  if (v.latency) lim.push(`Latency was measured in ${v.latency.runtime} on the evaluation machine; it depends on hardware, threads and load.`);
  lim.push('Outputs are not bit-identical to the baseline; validate on your own data before deploying.');
  for (const l of lim) L.push(`- ${l}`);
  L.push('');
  if (opts.license) L.push('## License', '', opts.license, '');
  L.push(`Generated ${report.createdAt} by Whittle.`, '');
  return L.join('\n');
}
