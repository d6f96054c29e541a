import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Recipe, runRecipe } from '@whittle/graph';
import { type VariantResult, buildReport, formatBytes, modelCard, reportToJson, reportToMarkdown } from '@whittle/eval/node';
import { readModel, writeModel } from '@whittle/onnx';
import { writeFileAtomic, writeModelFile } from '@whittle/onnx/node';
import '@whittle/prune';
import '@whittle/quantize';
import { loadDataset, asTraining } from '../data.js';
import { demoModel } from '../demo_model.js';
import { userPath } from '../model_io.js';
import { evaluateVariant } from '../evaluate.js';
import { createProgress } from '../progress.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  out: string;
  sparsity: number;
  pruneEpochs: number;
  clusters: number;
  clusterEpochs: number;
  seed: number;
  json: boolean;
}

/** Deep Compression's pipeline (prune with fine-tuning → weight sharing) as a Whittle recipe. */
export function deepCompressionRecipe(o: Pick<DemoOptions, 'sparsity' | 'pruneEpochs' | 'clusters' | 'clusterEpochs'>): Recipe {
  return {
    name: 'deep-compression',
    passes: [
      { pass: 'prune-gradual', options: { targetSparsity: o.sparsity, scope: 'global', epochs: o.pruneEpochs, rampFraction: 0.5, frequency: 20, lr: 1e-3 } },
      { pass: 'cluster-weights', options: { clusters: o.clusters, storage: 'sparse', gapBits: 4, fineTuneEpochs: o.clusterEpochs, lr: 1e-4 } },
    ],
  };
}

/**
 * `whittle demo`: the seeded LeNet-300-100 from the zoo (trained by Whittle on MNIST), pruned
 * gradually with fine-tuning, then weight-shared to 16 values stored as relative-index sparse
 * entries; every stage scored in onnxruntime-node on the test split; table, report, model card.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const t0 = performance.now();
  const log = (s: string): void => void (o.json ? undefined : process.stdout.write(`${s}\n`));
  const out = userPath(o.out);
  mkdirSync(out, { recursive: true });
  const data = await loadDataset('mnist');
  const zoo = await demoModel();
  log(`Deep Compression demo — LeNet-300-100 (trained by Whittle, ${zoo.bytes.length} bytes), ${data.description}`);
  const recipe = deepCompressionRecipe(o);
  const progress = createProgress('compress', { quiet: o.json });
  const inputName = zoo.model.graph.inputs[0]!.name;
  // the pruned stage on its own (same seed and options as the recipe's first step), for the table
  const pruned = await runRecipe(zoo.model, { passes: [recipe.passes[0]!] }, { seed: o.seed, training: asTraining(data.train, inputName), onProgress: (f, m) => progress.update(f * 0.5, m) });
  const full = await runRecipe(pruned.model, { passes: [recipe.passes[1]!] }, { seed: o.seed + 1, training: asTraining(data.train, inputName), onProgress: (f, m) => progress.update(0.5 + f * 0.5, m) });
  progress.stop();
  const stages = [
    { name: 'lenet300100-fp32', technique: 'original (float32)', bytes: zoo.bytes },
    { name: 'pruned', technique: `gradual magnitude pruning to ${(o.sparsity * 100).toFixed(0)} % (global) + fine-tuning, dense float32 storage`, bytes: writeModel(pruned.model) },
    { name: 'deep-compressed', technique: `pruned + ${o.clusters}-value weight sharing (centroid fine-tuning), relative-index sparse storage`, bytes: writeModel(full.model) },
  ];
  const variants: VariantResult[] = [];
  let reference: Float32Array | undefined;
  for (const s of stages) {
    const path = join(out, `${s.name}.onnx`);
    await writeModelFile(readModel(s.bytes), path);
    const v = await evaluateVariant(s.name, s.technique, s.bytes, data.test, { ...(reference ? { reference } : {}), path });
    reference ??= v.logits;
    const { logits: _l, ...rest } = v;
    variants.push(rest);
  }
  const report = buildReport(variants, { title: 'Whittle demo: Deep Compression of LeNet-300-100 on MNIST', dataset: { name: 'MNIST', split: 'test (last 20 % of each digit)', count: data.test.labels.length } });
  await writeFileAtomic(join(out, 'report.md'), reportToMarkdown(report));
  await writeFileAtomic(join(out, 'report.json'), reportToJson(report));
  await writeFileAtomic(
    join(out, 'MODEL_CARD.md'),
    modelCard(report, {
      variant: 'deep-compressed',
      description: 'Handwritten digit classifier (LeNet-300-100: 784-300-100-10 MLP), 10 classes, input [N, 1, 28, 28] in [0, 1].',
      trainingData: `${data.description}; ${data.train.labels.length} training images for the original and for the fine-tuning.`,
      intendedUse: 'A demonstration of Deep Compression in Whittle; not for production digit recognition.',
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ report, passes: [...pruned.steps, ...full.steps].map((s) => ({ pass: s.pass, summary: s.report.summary })), seconds: secs }, null, 2)}\n`);
    return;
  }
  const base = report.rows[0]!;
  const rows = report.rows.map((r) => [r.name, formatBytes(r.size.fileBytes), formatBytes(r.size.gzipBytes), `${r.ratio.toFixed(1)}x`, `${((r.accuracy ?? 0) * 100).toFixed(2)} %`, r === base ? '' : `${(r.deltaPt ?? 0) >= 0 ? '+' : ''}${(r.deltaPt ?? 0).toFixed(2)} pt`, r.fidelity?.top1Agreement !== undefined ? `${(r.fidelity.top1Agreement * 100).toFixed(2)} %` : '']);
  const head = ['variant', 'file', 'gzip', 'ratio', 'accuracy (ORT)', 'drop', 'top-1 agreement'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log('');
  log(line(head));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) log(line(r));
  log('');
  for (const s of [...pruned.steps, ...full.steps]) log(`${s.pass}: ${s.report.summary}`);
  log(`\nmodels, report.md, report.json and MODEL_CARD.md in ${out} (${secs.toFixed(0)} s)`);
}
