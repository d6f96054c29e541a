/**
 * Evaluation reports: a table across variants (size, ratio, params, sparsity, accuracy, delta,
 * fidelity, latency) with the size-vs-accuracy Pareto front, as Markdown and JSON.
 */
import { ArgumentError } from '@whittle/tensor';
import type { FidelityMetrics } from './fidelity.js';
import { type LmEvaluationSettings, lmSettingsLine } from './lm/evaluate.js';
import type { LatencyResult, LatencyVsBaseline } from './latency_stats.js';
import { paretoFront } from './pareto.js';
import type { SizeMetrics } from './size.js';
import { formatBytes } from './format.js';

/** The measurements of one model variant (the original is a variant too). */
export interface VariantResult {
  name: string;
  /** How it was made, e.g. 'original', 'prune 90 % + fine-tune', 'int8 weights (per-channel)'. */
  technique: string;
  size: SizeMetrics;
  /** Accuracy on the evaluation data in [0, 1]. */
  accuracy?: number;
  /** Against the baseline's outputs on the same inputs. */
  fidelity?: FidelityMetrics;
  latency?: LatencyResult;
  /** Where the file is (shown in the report). */
  path?: string;
  /** Task metrics by name (e.g. `top5`, `perplexity`, `mse`, `retrievalAgreement@5`, a user metric's numbers). */
  metrics?: Record<string, number>;
  /** Free-form notes (pass reports etc.), kept in the JSON. */
  notes?: string;
}

/** The evaluation data, as stated in the report and the model card. */
export interface DatasetInfo {
  name: string;
  /** e.g. 'test (last 20 % of each digit)'. */
  split?: string;
  count?: number;
  /** Kind of source ('images', 'npy', 'text', 'synthetic', …). */
  source?: string;
  /** True when the inputs were made up (synthetic): results are data-free, not accuracy. */
  dataFree?: boolean;
}

/** What was measured: the task, the output it was measured on and the metrics. */
export interface TaskInfo {
  /** 'classification' | 'fidelity' | 'lm' | 'regression' | 'embedding' | 'custom'. */
  task: string;
  /** Model output the metrics read. */
  output?: string;
  /** One line, e.g. 'top-1/top-5 accuracy from the data's labels; fidelity to the baseline'. */
  description: string;
  /** A user metric module, when one was used. */
  metricModule?: string;
}

/** One table row: the variant plus the figures relative to the baseline. */
export interface ReportRow extends VariantResult {
  /** baseline size / this size (by `sizeBasis`). */
  ratio: number;
  /** accuracy − baseline accuracy, in percentage points (undefined without accuracies). */
  deltaPt?: number;
  /** On the size-vs-accuracy Pareto front. */
  pareto: boolean;
}

/** A complete evaluation report (serialize with {@link reportToJson}, render with {@link reportToMarkdown}). */
export interface EvaluationReport {
  title: string;
  createdAt: string;
  dataset?: DatasetInfo;
  task?: TaskInfo;
  /** Name of the variant all ratios, deltas and fidelity refer to. */
  baseline: string;
  /** Which size the ratio and the Pareto front use. */
  sizeBasis: 'fileBytes' | 'gzipBytes';
  rows: ReportRow[];
  /** Variant names on the Pareto front, by increasing size. */
  paretoFront: string[];
  /** What the front trades size against: accuracy, or without accuracies the fidelity to the baseline. */
  paretoAxis?: 'accuracy' | 'top-1 agreement' | 'output cosine';
  /** How the LM evaluation (perplexity windows, generation, tokens/s) ran, when it did. */
  lm?: LmEvaluationSettings;
}

/** Options of {@link buildReport}. */
export interface BuildReportOptions {
  title?: string;
  dataset?: DatasetInfo;
  task?: TaskInfo;
  /** Baseline variant name (default: the first variant). */
  baseline?: string;
  /** Size used for ratio and Pareto front (default 'fileBytes'). */
  sizeBasis?: 'fileBytes' | 'gzipBytes';
  /** ISO timestamp (default: now); fix it for reproducible output. */
  createdAt?: string;
  /** Settings of the LM evaluation, when the metrics include it. */
  lm?: LmEvaluationSettings;
}

/** Build the report: ratios and accuracy deltas against the baseline, and the Pareto front. */
export function buildReport(variants: readonly VariantResult[], opts: BuildReportOptions = {}): EvaluationReport {
  if (variants.length === 0) throw new ArgumentError('buildReport: no variants given');
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new ArgumentError(`buildReport: variant name '${v.name}' appears twice; names must be unique`);
    names.add(v.name);
  }
  const baseName = opts.baseline ?? variants[0]!.name;
  const base = variants.find((v) => v.name === baseName);
  if (!base) throw new ArgumentError(`buildReport: baseline '${baseName}' is not among the variants (${[...names].join(', ')})`);
  const basis = opts.sizeBasis ?? 'fileBytes';
  // without accuracies (fidelity runs), the front trades size against fidelity to the baseline (itself: 1)
  const withAccuracy = variants.some((v) => v.accuracy !== undefined);
  const fidelityOf = (v: VariantResult, key: 'top1Agreement' | 'cosine'): number | undefined => (v.name === baseName ? 1 : v.fidelity?.[key]);
  // top-1 agreement ranks only when it tells variants apart: on made-up inputs a decoder often
  // predicts one token everywhere, and 100 % for all would put the smallest alone on the front
  const agreements = variants.map((v) => fidelityOf(v, 'top1Agreement'));
  const agreement = !withAccuracy && agreements.every((a) => a !== undefined) && new Set(agreements).size > 1;
  const axis = withAccuracy ? 'accuracy' : agreement ? 'top-1 agreement' : 'output cosine';
  const quality = (v: VariantResult): number | undefined => (withAccuracy ? v.accuracy : fidelityOf(v, agreement ? 'top1Agreement' : 'cosine'));
  const front = paretoFront(variants.map((v) => ({ size: v.size[basis], accuracy: quality(v) })));
  const onFront = new Set(front);
  const rows: ReportRow[] = variants.map((v, i) => {
    const row: ReportRow = { ...v, ratio: base.size[basis] / v.size[basis], pareto: onFront.has(i) };
    if (v.accuracy !== undefined && base.accuracy !== undefined) row.deltaPt = (v.accuracy - base.accuracy) * 100;
    return row;
  });
  const report: EvaluationReport = {
    title: opts.title ?? 'Whittle evaluation report',
    createdAt: opts.createdAt ?? new Date().toISOString(),
    baseline: baseName,
    sizeBasis: basis,
    rows,
    paretoFront: front.map((i) => variants[i]!.name),
    ...(front.length ? { paretoAxis: axis } : {}),
  };
  if (opts.dataset) report.dataset = opts.dataset;
  if (opts.task) report.task = opts.task;
  if (opts.lm) report.lm = opts.lm;
  return report;
}

export { formatBytes };

function formatCount(n: number): string {
  if (n < 1e4) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

const pct = (x: number | undefined, digits = 2): string => (x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`);
const db = (x: number | undefined): string => (x === undefined ? '–' : x === Infinity ? '∞' : x === -Infinity ? '−∞' : x.toFixed(1));
const ms = (x: number | undefined): string => (x === undefined ? '–' : x < 1 ? x.toFixed(3) : x.toFixed(2));
const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report as Markdown: heading, data line, the variant table (★ = Pareto front), notes. */
export function reportToMarkdown(r: EvaluationReport): string {
  const lines: string[] = [`# ${r.title}`, ''];
  if (r.dataset) lines.push(`Data: ${datasetLine(r.dataset)}.`);
  if (r.task) lines.push(`Task: ${taskLine(r.task)}.`);
  if (r.lm) lines.push(`LM evaluation: ${lmSettingsLine(r.lm)}.`);
  lines.push(`Baseline: \`${r.baseline}\`. Ratio = baseline ${r.sizeBasis === 'fileBytes' ? 'file' : 'gzip'} size / variant size. ★ = on the size-vs-accuracy Pareto front.`, '');
  const batchN = r.rows.find((x) => x.latency?.batchN)?.latency?.batchN?.batchSize;
  const head = ['', 'Variant', 'Technique', 'File', 'Gzip', 'Ratio', 'Params', 'Sparsity', 'Accuracy', 'Δ (pt)', 'Top-1 agr.', 'Cosine', 'SQNR (dB)', 'Max abs err', 'p50/p90 b1 (ms)'];
  if (batchN !== undefined) head.push(`p50/p90 b${batchN} (ms)`);
  const vs = r.rows.find((x) => x.latency?.vsBaseline)?.latency?.vsBaseline;
  const vsN = r.rows.find((x) => x.latency?.vsBaseline?.batchN)?.latency?.vsBaseline?.batchN?.batchSize;
  if (vs) head.push(`Speed vs base b1${vsN !== undefined ? ` / b${vsN}` : ''}`);
  lines.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i >= 3 ? '---:' : '---')).join('|')}|`);
  for (const x of r.rows) {
    const f = x.fidelity;
    const isBase = x.name === r.baseline;
    const cells = [
      x.pareto ? '★' : '',
      `\`${esc(x.name)}\``,
      esc(x.technique),
      formatBytes(x.size.fileBytes),
      formatBytes(x.size.gzipBytes),
      `${x.ratio.toFixed(x.ratio >= 10 ? 1 : 2)}×`,
      formatCount(x.size.parameters),
      pct(x.size.sparsity, 1),
      pct(x.accuracy),
      x.deltaPt === undefined ? '–' : isBase ? '—' : `${x.deltaPt >= 0 ? '+' : ''}${x.deltaPt.toFixed(2)}`,
      pct(f?.top1Agreement),
      f ? f.cosine.toFixed(5) : '–',
      db(f?.sqnrDb),
      f ? f.maxAbsError.toExponential(2) : '–',
      x.latency ? `${ms(x.latency.batch1.p50Ms)} / ${ms(x.latency.batch1.p90Ms)}` : '–',
    ];
    if (batchN !== undefined) cells.push(x.latency?.batchN ? `${ms(x.latency.batchN.p50Ms)} / ${ms(x.latency.batchN.p90Ms)}` : '–');
    if (vs) cells.push(speedCell(x.latency?.vsBaseline));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const names = [...new Set(r.rows.flatMap((x) => Object.keys(x.metrics ?? {})))];
  if (names.length) {
    lines.push('', `| Variant | ${names.map(esc).join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`);
    for (const x of r.rows) lines.push(`| \`${esc(x.name)}\` | ${names.map((n) => formatMetric(x.metrics?.[n])).join(' | ')} |`);
  }
  lines.push('', `Pareto front (size → ${r.paretoAxis === 'accuracy' || !r.paretoAxis ? 'accuracy' : `${r.paretoAxis} with the baseline`}): ${r.paretoFront.map((n) => `\`${n}\``).join(' → ') || '(no accuracies or fidelities)'}.`);
  const lat = r.rows.find((x) => x.latency)?.latency;
  if (lat) {
    lines.push(
      `Latency: ${lat.runtime}${lat.intraOpNumThreads !== undefined ? `, ${lat.intraOpNumThreads} intra-op thread(s)` : ''}, ` +
        `${lat.batch1.warmup} warm-up + ${lat.batch1.runs} timed run${lat.batch1.runs === 1 ? '' : 's'} at batch 1 (fewer where a run takes seconds: ~15 s per batch size); timings depend on the machine and its load.` +
        (lat.batchNLimit ? ` Memory: ${lat.batchNLimit}.` : ''),
    );
  }
  if (vs) {
    lines.push(`Speed vs base: baseline time / variant time (above 1× = faster), each variant interleaved with the baseline in one run, median of ${vs.rounds} rounds × ${vs.runsPerRound} run${vs.runsPerRound === 1 ? '' : 's'}; ⚠ = more than 5 % slower than the baseline.`);
    const slow = r.rows.filter((x) => x.latency?.vsBaseline?.slower);
    if (slow.length) lines.push(`⚠ Slower than the baseline in onnxruntime: ${slow.map((x) => `\`${x.name}\``).join(', ')} (smaller is not faster here).`);
  }
  const flops = r.rows.filter((x) => x.size.flops > 0);
  if (flops.length) {
    const each = flops.map((x) => `\`${x.name}\` ${formatCount(x.size.flops)}${x.size.macs ? ` (${formatCount(x.size.macs)} multiply-adds)` : ''}`);
    // the dims the estimate was made at: the data's sizes, and any dim nothing bound (taken as 1)
    const at = Object.entries(flops[0]!.size.dims ?? {}).map(([k, v]) => `${k} ${v}`);
    const assumed = [...new Set(flops.flatMap((x) => x.size.assumedDims))];
    const where = [...(at.length ? [`at ${at.join(', ')}`] : []), ...(assumed.length ? [`${assumed.join(', ')} taken as 1`] : [])];
    lines.push(`FLOPs per sample (estimate, MatMul/Gemm/Conv and their integer/quantized forms; an If counts its costlier branch${where.length ? `; ${where.join('; ')}` : ''}): ${each.join(', ')}.`);
  }
  lines.push(`Generated ${r.createdAt} by Whittle.`, '');
  return lines.join('\n');
}

/** `1.52× / 1.61×` (⚠ when slower than the baseline). */
function speedCell(v: LatencyVsBaseline | undefined): string {
  if (!v) return '–';
  const f = (x: number): string => `${x.toFixed(2)}×`;
  return `${v.slower ? '⚠ ' : ''}${f(v.batch1.speedup)}${v.batchN ? ` / ${f(v.batchN.speedup)}` : ''}`;
}

/** A task metric for tables: 6 significant digits, '–' when absent. */
export function formatMetric(x: number | undefined): string {
  if (x === undefined) return '–';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '−∞';
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-4) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

/** The evaluation data in one line: name, split/description, sample count, source kind, data-free. */
export function datasetLine(d: DatasetInfo): string {
  const kind = d.source ? ` [${d.source}]` : '';
  return `${d.dataFree ? 'data-free (synthetic) — ' : ''}${d.name}${kind}${d.split ? `, ${d.split}` : ''}${d.count !== undefined ? ` (${d.count} samples)` : ''}`;
}

/** The task in one line. */
export function taskLine(t: TaskInfo): string {
  return `${t.task}${t.output ? ` on output '${t.output}'` : ''}: ${t.description}${t.metricModule ? ` (metric module ${t.metricModule})` : ''}`;
}

/** The report as JSON (±Infinity, e.g. the SQNR of identical outputs, become the strings "Infinity"/"-Infinity"). */
export function reportToJson(r: EvaluationReport): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}

/** Read a report back from {@link reportToJson} output (restores ±Infinity / NaN). */
export function reportFromJson(json: string): EvaluationReport {
  return JSON.parse(json, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v)) as EvaluationReport;
}
