import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { type VariantResult, buildReport, modelCard, reportToJson, reportToMarkdown } from '@whittle/eval/node';
import { writeFileAtomic } from '@whittle/onnx/node';
import { loadDataset } from '../data.js';
import { evaluateVariant } from '../evaluate.js';
import { readInput, userPath } from '../model_io.js';
import { UsageError } from '../errors.js';

/** `whittle evaluate <models…> --data mnist`: accuracy, fidelity, size, latency, report, model card. */
export function addEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate models in onnxruntime-node: accuracy, fidelity vs the first (baseline), size, latency; Markdown/JSON report with the Pareto front and a model card')
    .argument('<models...>', '.onnx files; the first is the baseline')
    .requiredOption('--data <name>', 'labeled evaluation data (mnist: its test split)')
    .option('--report <dir>', 'write report.md, report.json and MODEL_CARD.md there')
    .option('--no-latency', 'skip the latency measurement')
    .option('--json', 'print the report as JSON')
    .action(async (models: string[], o: { data: string; report?: string; latency: boolean; json?: boolean }) => {
      const ds = await loadDataset(o.data);
      const names = new Set<string>();
      const variants: VariantResult[] = [];
      let reference: Float32Array | undefined;
      for (const m of models) {
        const model = await readInput(m); // typed refusal of missing / non-ONNX files before timing anything
        let name = basename(m).replace(/\.onnx$/, '');
        while (names.has(name)) name += "'";
        names.add(name);
        const bytes = new Uint8Array(readFileSync(userPath(m)));
        const rank = model.graph.inputs.find((i) => !model.graph.initializers.has(i.name))?.type;
        const flat = rank?.kind === 'tensor' && rank.shape?.length === 2;
        const data = flat ? { ...ds.test, sampleShape: [ds.test.sampleShape.reduce((a, b) => a * b, 1)] } : ds.test;
        const v = await evaluateVariant(name, variants.length ? 'compressed variant' : 'baseline', bytes, data, { model, latency: o.latency, ...(reference ? { reference } : {}), path: m });
        reference ??= v.logits;
        const { logits: _l, ...rest } = v;
        variants.push(rest);
      }
      if (!variants.length) throw new UsageError('give at least one model');
      const report = buildReport(variants, { title: 'Whittle evaluation report', dataset: { name: ds.name, split: 'test', count: ds.test.labels.length } });
      if (o.report) {
        const dir = userPath(o.report);
        mkdirSync(dir, { recursive: true });
        await writeFileAtomic(join(dir, 'report.md'), reportToMarkdown(report));
        await writeFileAtomic(join(dir, 'report.json'), reportToJson(report));
        await writeFileAtomic(join(dir, 'MODEL_CARD.md'), modelCard(report, { trainingData: ds.description }));
      }
      process.stdout.write(o.json ? `${reportToJson(report)}\n` : reportToMarkdown(report));
    });
}
