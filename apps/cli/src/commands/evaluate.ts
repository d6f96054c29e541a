import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { type VariantResult, buildReport, modelCard, reportToJson, reportToMarkdown } from '@whittle/eval/node';
import { writeFileAtomic } from '@whittle/onnx/node';
import { openCliData } from '../data.js';
import { evaluateVariant } from '../evaluate.js';
import { readInput, userPath } from '../model_io.js';
import { UsageError } from '../errors.js';

/**
 * `whittle evaluate <models…> --data <mnist|path|spec>`: accuracy (when the data has labels),
 * fidelity to the first model (cosine, SQNR, top-1 agreement), size, latency, report, model card.
 */
export function addEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate models in onnxruntime-node: accuracy, fidelity vs the first (baseline), size, latency; Markdown/JSON report with the Pareto front and a model card')
    .argument('<models...>', '.onnx files; the first is the baseline')
    .requiredOption('--data <mnist|path|spec>', 'evaluation data: mnist (its test split), an ONNX test-data folder, .npy/.npz, an image folder, .csv/.tsv, .jsonl, a .yaml data spec, or synthetic[:N] (data-free); accuracy needs labels, fidelity to the first model is always measured')
    .option('--report <dir>', 'write report.md, report.json and MODEL_CARD.md there')
    .option('--no-latency', 'skip the latency measurement')
    .option('--json', 'print the report as JSON')
    .action(async (models: string[], o: { data: string; report?: string; latency: boolean; json?: boolean }) => {
      const names = new Set<string>();
      const variants: VariantResult[] = [];
      let reference: Float32Array | undefined;
      let info: { name: string; description: string; count: number | undefined } | undefined;
      for (const m of models) {
        const model = await readInput(m); // typed refusal of missing / non-ONNX files before timing anything
        let name = basename(m).replace(/\.onnx$/, '');
        while (names.has(name)) name += "'";
        names.add(name);
        const bytes = new Uint8Array(readFileSync(userPath(m)));
        const data = await openCliData(o.data, model, 'test');
        const v = await evaluateVariant(name, variants.length ? 'compressed variant' : 'baseline', bytes, data.source, { model, latency: o.latency, ...(reference ? { reference } : {}), path: m });
        reference ??= v.logits;
        info ??= { name: data.source.dataFree ? `${data.name} (data-free)` : data.name, description: data.source.description, count: data.source.size };
        const { logits: _l, ...rest } = v;
        variants.push(rest);
      }
      if (!variants.length || !info) throw new UsageError('give at least one model');
      const report = buildReport(variants, { title: 'Whittle evaluation report', dataset: { name: info.name, split: o.data === 'mnist' ? 'test' : info.description, ...(info.count !== undefined ? { count: info.count } : {}) } });
      if (o.report) {
        const dir = userPath(o.report);
        mkdirSync(dir, { recursive: true });
        await writeFileAtomic(join(dir, 'report.md'), reportToMarkdown(report));
        await writeFileAtomic(join(dir, 'report.json'), reportToJson(report));
        await writeFileAtomic(join(dir, 'MODEL_CARD.md'), modelCard(report, { trainingData: info.description }));
      }
      process.stdout.write(o.json ? `${reportToJson(report)}\n` : reportToMarkdown(report));
    });
}
