/**
 * Acceptance: zoo models factorized to <= 0.5x parameters ('lowrank', budget mode), accuracy in
 * onnxruntime-node on the 2,004 MNIST test images before, without and with fine-tuning.
 *
 * Fine-tuning uses the pass's own `fineTuneEpochs` option with ctx.training.
 *
 *   node --conditions=@whittle/source --import tsx scripts/acceptance.ts [lenet300100] [lenet5] [--epochs N]
 */
import { existsSync, readdirSync } from 'node:fs';
import { runPass } from '@whittle/graph';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { ZOO_DIR, mnistData, zooModel, type ZooName } from '@whittle/testing/zoo';
import '../src/index.js';

const args = process.argv.slice(2);
const ei = args.indexOf('--epochs');
const epochs = ei >= 0 ? Number(args[ei + 1]) : 3;
const names = args.filter((a, i) => !a.startsWith('--') && (ei < 0 || i !== ei + 1)) as ZooName[];
if (!names.length) names.push('lenet300100');

const data = await mnistData();
for (const name of names) {
  if (name === 'lenet5' && !(existsSync(ZOO_DIR) && readdirSync(ZOO_DIR).some((f) => f.startsWith('lenet5-') && f.endsWith('.onnx')))) {
    console.log('lenet5: zoo file not present yet, skipped (would start a training)');
    continue;
  }
  const zoo = await zooModel(name);
  const acc = async (m: Parameters<typeof evaluateAccuracyOrt>[0]): Promise<number> =>
    (await evaluateAccuracyOrt(m, data.test.images, data.test.labels)).accuracy * 100;
  const before = await acc(zoo.model);
  const t0 = performance.now();
  const r = await runPass('lowrank', zoo.model, { rankSelection: 'budget', targetRatio: 0.5 }, { seed: 1 });
  const ratio = r.report.stats?.['paramRatio'] as number;
  const without = await acc(r.model);
  console.log(`${name}: ${r.report.summary} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  for (const l of (r.report.details?.['layers'] ?? []) as { name: string; kind: string; shape: string; ranks: number[]; relativeError: number }[]) {
    console.log(`  ${l.name} ${l.kind} ${l.shape} ranks ${l.ranks.join('/')} weight rel. error ${l.relativeError.toFixed(4)}`);
  }
  console.log(`  accuracy before ${before.toFixed(2)} %, factorized without fine-tuning ${without.toFixed(2)} % (drop ${(before - without).toFixed(2)} pt)`);
  const t1 = performance.now();
  // the same pass with its fineTuneEpochs option, training on ctx.training (the standard split's train part)
  const training = { x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28] };
  const ft = await runPass('lowrank', zoo.model, { rankSelection: 'budget', targetRatio: 0.5, fineTuneEpochs: epochs, lr: 5e-4, lrDecay: 0.7 }, { seed: 1, training });
  const tuned = await acc(ft.model);
  console.log(`  fine-tuned ${epochs} epoch(s) (${((performance.now() - t1) / 1000).toFixed(0)} s): ${tuned.toFixed(2)} % (drop ${(before - tuned).toFixed(2)} pt), params ratio ${(ft.report.stats?.['paramRatio'] as number).toFixed(3)}x (pass option fineTuneEpochs)`);
}
