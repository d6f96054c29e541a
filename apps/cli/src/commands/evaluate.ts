import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { Model } from '@whittle/graph';
import { type UserMetric, type VariantResult, buildReport, compareLatencyOrt, loadUserMetric, modelCard, reportToJson, reportToMarkdown } from '@whittle/eval/node';
import { writeFileAtomic } from '@whittle/onnx/node';
import { openCliData, textUnitFor, textUnitHelp } from '../data.js';
import { type SourceOutputs, type Task, TASKS, defaultTask, evaluateVariant, taskInfo } from '../evaluate.js';
import { type LmFlags, evaluateLmVariants, lmEvaluationSkipped, usesLmEvaluation } from './evaluate_lm.js';
import { readInput, userPath } from '../model_io.js';
import { UsageError } from '../errors.js';
import { withSyntheticDimsHint } from '../synthetic_hint.js';
import { inheritFolderShapes } from '../folder_shapes.js';

/**
 * `whittle evaluate <models…> --data <mnist|path|spec> [--task …] [--metric m.mjs] [--output name]`:
 * the task's metrics (classification top-1/top-5 from labels, fidelity to the first model, LM
 * perplexity, regression errors, embedding similarity/retrieval), a user metric, size, latency,
 * report and model card stating the data (source, samples, data-free) and the metric.
 */
export function addEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate models in onnxruntime-node: accuracy, fidelity vs the first (baseline), size, latency; Markdown/JSON report with the Pareto front and a model card')
    .argument('<models...>', '.onnx files; the first is the baseline')
    .requiredOption('--data <mnist|path|spec>', 'evaluation data: mnist (its test split), an ONNX test-data folder, .npy/.npz, an image folder (class subfolders = labels), a .wav file or folder (class subfolders = labels), .csv/.tsv, .jsonl token ids, a .txt with tokenizer.json beside it, a .yaml data spec, or synthetic[:N] (data-free)')
    .option('--task <task>', `what to measure: ${TASKS.join(' | ')} (default: classification when the data has labels, regression when it has float targets, else fidelity to the first model)`)
    .option('--metric <module>', 'a JS module whose default export takes { outputs, reference, inputs, labels, targets } and returns named numbers')
    .option('--output <name>', "the model output the metrics read (default: the first tensor output; the float scores beside a first output of integer labels); e.g. 'logits'")
    .option('--report <dir>', 'write report.md, report.json and MODEL_CARD.md there')
    .option('--no-latency', 'skip the latency measurement (and tokens/s of --task lm)')
    .option('--window <n>', '--task lm on a decoder with a KV cache: perplexity window in tokens (default: the data\'s windows)', positiveInt('--window'))
    .option('--stride <n>', '--task lm: tokens between window starts; below --window the overlap is context, only new tokens are scored (default: the window)', positiveInt('--stride'))
    .option('--prompts <n>', '--task lm: prompts for greedy generation, spread over the text (default 8)', positiveInt('--prompts'))
    .option('--prompt-length <n>', '--task lm: tokens per prompt (default 16)', positiveInt('--prompt-length'))
    .option('--gen-tokens <n>', '--task lm: greedy tokens generated per prompt with the KV cache, compared with the first model (default 16)', positiveInt('--gen-tokens'))
    .option('--text-unit <unit>', textUnitHelp('for --task lm'))
    .option('--json', 'print the report as JSON')
    .action(async (models: string[], o: LmFlags & { data: string; task?: string; metric?: string; output?: string; report?: string; latency: boolean; json?: boolean }) => {
      if (o.task !== undefined && !(TASKS as readonly string[]).includes(o.task)) throw new UsageError(`--task must be one of ${TASKS.join(', ')}, got '${o.task}'`);
      // a --report path that cannot be a folder is refused before the evaluation, not after it
      if (o.report) {
        const dir = userPath(o.report);
        if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--report '${o.report}' is a file; give a folder to write report.md, report.json and MODEL_CARD.md in`);
      }
      const text = textUnitFor(o.textUnit, o.task === 'lm');
      const metric: UserMetric | undefined = o.metric ? await loadUserMetric(userPath(o.metric)) : undefined;
      const names = new Set<string>();
      const variants: VariantResult[] = [];
      const sources: Uint8Array[] = [];
      let baseModel: Model | undefined;
      let reference: SourceOutputs | undefined;
      let task: Task | undefined;
      let info: { name: string; description: string; count: number; kind: string; dataFree: boolean } | undefined;
      for (const m of models) {
        const model = await readInput(m); // typed refusal of missing / non-ONNX files before timing anything
        inheritFolderShapes(model, baseModel);
        let name = basename(m).replace(/\.onnx$/, '');
        while (names.has(name)) name += "'";
        names.add(name);
        const bytes = new Uint8Array(readFileSync(userPath(m)));
        const data = await openCliData(o.data, model, 'test', text);
        task ??= (o.task as Task | undefined) ?? defaultTask(data.source);
        // the variants are timed at the batch the baseline's memory allowed, so the columns compare
        const baseLatency = variants[0]?.latency;
        const latencyBatchN = baseLatency ? (baseLatency.batchN?.batchSize ?? 0) : undefined;
        const v = await evaluateVariant(name, variants.length ? 'compressed variant' : 'baseline', bytes, data.source, { model, task, latency: o.latency, ...(latencyBatchN !== undefined ? { latencyBatchN } : {}), ...(reference ? { reference } : {}), ...(o.output ? { output: o.output } : {}), ...(metric ? { metric } : {}), path: m }).catch((e: unknown) => {
          throw withSyntheticDimsHint(e, o.data, model);
        });
        if (v.latency?.batchNLimit && !variants.length) process.stderr.write(`note: latency: ${v.latency.batchNLimit}\n`);
        reference ??= v.run;
        info ??= { name: data.name, description: data.source.description, count: v.run.count, kind: data.source.kind, dataFree: data.source.dataFree };
        const { logits: _l, run: _r, ...rest } = v;
        variants.push(rest);
        sources.push(bytes);
        baseModel ??= model;
      }
      if (!variants.length || !info || !task || !reference) throw new UsageError('give at least one model');
      if (o.latency && baseModel) await speedVsBaseline(variants, sources, baseModel);
      const lm = task === 'lm' && baseModel && usesLmEvaluation(baseModel) ? await evaluateLmVariants(models, variants, (await openCliData(o.data, baseModel, 'test', text)).source, o, o.latency) : undefined;
      if (task === 'lm' && baseModel && !lm) process.stderr.write(`note: ${lmEvaluationSkipped(baseModel, o)}\n`);
      const report = buildReport(variants, {
        ...(lm ? { lm } : {}),
        title: 'Whittle evaluation report',
        dataset: { name: info.name, split: o.data === 'mnist' ? 'test split' : info.description, count: info.count, source: info.kind, dataFree: info.dataFree },
        task: taskInfo(task, reference.output, o.metric),
      });
      if (o.report) {
        const dir = userPath(o.report);
        mkdirSync(dir, { recursive: true });
        await writeFileAtomic(join(dir, 'report.md'), reportToMarkdown(report));
        await writeFileAtomic(join(dir, 'report.json'), reportToJson(report));
        await writeFileAtomic(join(dir, 'MODEL_CARD.md'), modelCard(report, { trainingData: 'not known to `whittle evaluate`, which sees only the finished files (the evaluation data above is what it measured on).' }));
      }
      process.stdout.write(o.json ? `${reportToJson(report)}\n` : reportToMarkdown(report));
    });
}

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
    return x;
  };
}

/**
 * Speed of every variant against the first model, timed interleaved in one run at batch 1 and
 * at the larger batch the latency used (dynamic batch dim only); sets `latency.vsBaseline`.
 */
async function speedVsBaseline(variants: VariantResult[], sources: Uint8Array[], model: Model): Promise<void> {
  const base = variants[0]?.latency;
  if (variants.length < 2 || !base || !variants.every((v) => v.latency)) return;
  const dims = model.graph.inputs.find((i) => !model.graph.initializers.has(i.name))?.type?.shape;
  const sampleShape = dims?.slice(1);
  if (!sampleShape || !sampleShape.every((d): d is number => typeof d === 'number' && d > 0)) return;
  const batchN = base.batchN ? Math.min(base.batchN.batchSize, 8) : 0;
  const cmp = await compareLatencyOrt(sources, { sampleShape, batchN, baselineName: variants[0]!.name });
  for (const [i, v] of variants.entries()) v.latency!.vsBaseline = cmp[i]!;
}
