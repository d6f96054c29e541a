/**
 * Acceptance (issue 7): teacher = Whittle's LeNet-5 (zoo, 431,080 parameters), a student with
 * < 1/8 of its parameters — by default the small LeNet (conv 6@5x5, conv 16@5x5, fc 120, fc 10;
 * 34,622 parameters), or an MLP 784-64-10 (`--student mlp`) — trained three ways with the same
 * seeds, epochs, Adam schedule, batch order and input augmentation (random shifts, then mixup
 * between the images of each batch with the same pairs and weights in every arm):
 *   kd     distillation with function matching: the teacher labels every shifted, mixed image;
 *   ce     labels alone, shifts but no mixup (the plain baseline);
 *   cemix  labels alone on the same mixed images, with mixed one-hot labels.
 * Accuracy is measured in onnxruntime-node on the 2,004 MNIST test images; per-seed numbers,
 * mean ± sample sd over the seeds, the gap to the teacher and parameter counts are printed.
 * Seeds run in parallel child processes (`--jobs`, default 3).
 *
 * Measured with these defaults (20 epochs, shifts 1 px, mixup Beta(1, 1), T 4, alpha 1; seeds 1,2,3):
 *   teacher 98.20 %; student 34,622 parameters (12.5x fewer)
 *   kd     97.46 ± 0.33 % (97.41, 97.16, 97.80)   — within 1.5 pt of the teacher
 *   ce     97.94 ± 0.15 % (97.80, 98.10, 97.90)   — labels alone are better: the bar is NOT met
 *   cemix  97.44 ± 0.18 % (97.60, 97.26, 97.46)   — kd − cemix = 0.02 ± 0.29 pt: no gain either
 * Classic KD without mixup (`--mixup 0 --T 1 --alpha 0.5`, the best of the variants tried) gives
 * 97.74 ± 0.24 % (97.55, 98.00, 97.65), still below labels alone on every seed. Labels alone land
 * 0.27 pt below the teacher (about one test-set sd, 0.3 pt for 2,004 images), leaving
 * distillation no measurable headroom for this student at this budget; a wider student
 * (`--filters 12,24 --fc 64`, 32,826 parameters) trained on labels alone even passes the teacher
 * (seed 1: labels 98.35 %, KD T 1 alpha 0.5 98.20 %).
 * A capacity-limited student, where labels alone stay 1.8 pt below the teacher (`--filters 4,8 --fc 32
 * --mixup 0 --T 2 --alpha 0.5 --arms kd,ce`, 5,370 parameters), does not gain either: distilled
 * 96.21 ± 0.30 % (96.01, 96.56, 96.06), labels 96.39 ± 0.50 % (96.36, 96.91, 95.91). Nor does a
 * shrunk copy of the teacher (structured pruning to 51,294 parameters, then distilled vs trained on
 * labels from the same weights): see apps/cli/scripts/distill_pruned.ts (97.12 ± 0.08 vs 97.16 ± 0.20).
 *
 *   node --conditions=@whittle/source --import tsx scripts/acceptance.ts [--student cnn|mlp] [--filters 6,16] [--fc 120]
 *     [--epochs N] [--shift S] [--mixup a] [--T t] [--alpha a] [--decay d] [--seeds 1,2,3] [--arms kd,ce,cemix] [--jobs n]
 */
import { fileURLToPath } from 'node:url';
import { convNetTemplate, mlpTemplate, randomShift, trainClassifier, type Model } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { mnistData, zooModel } from '@whittle/testing/zoo';
import { meanSd, runSeeds, seedWorkerArgs } from '@whittle/testing/seeds';
import { distill } from '../src/index.js';
import { ortTeacher } from '../src/node.js';

const argv = process.argv.slice(2);
const str = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const num = (name: string, dflt: number): number => Number(str(name, String(dflt)));
const list = (name: string, dflt: string): number[] => str(name, dflt).split(',').map(Number);
const epochs = num('epochs', 20);
const shift = num('shift', 1);
const mixup = num('mixup', 1);
const T = num('T', 4);
const alpha = num('alpha', 1);
const lr = 2e-3;
const lrDecay = num('decay', 0.92);
const arms = str('arms', 'kd,ce,cemix').split(',');
const seeds = list('seeds', '1,2,3');
const jobs = num('jobs', 3);
const worker = argv.includes('--worker');
const kind = str('student', 'cnn');
const filters = list('filters', '6,16');
const fcs = list('fc', '120');
const LABEL: Record<string, string> = { kd: mixup ? 'distilled (function matching)' : 'distilled', ce: 'labels only, no mixup', cemix: 'labels only, mixup' };

const data = await mnistData();
const zoo = await zooModel('lenet5');
const params = (m: Model): number => [...m.graph.initializers.values()].reduce((s, t) => s + t.size, 0);
const studentName = kind === 'mlp' ? 'MLP 784-64-10' : `small LeNet (${filters.join('-')} conv 5x5, fc ${fcs.join('-')})`;
const studentOf = (seed: number): Model =>
  kind === 'mlp'
    ? mlpTemplate({ layers: [784, 64, 10], flattenInput: [1, 28, 28] }, new Rng(seed))
    : convNetTemplate({ input: [1, 28, 28], convs: filters.map((f) => ({ filters: f, kernel: 5 })), fc: [...fcs, 10], name: 'small_lenet' }, new Rng(seed));
const acc = async (m: Model): Promise<number> => (await evaluateAccuracyOrt(writeModel(m), data.test.images, data.test.labels, { sampleShape: [1, 28, 28] })).accuracy * 100;

/** Train every arm for one seed; accuracy per arm. */
async function runSeed(seed: number): Promise<Record<string, number>> {
  const teacher = await ortTeacher(zoo.bytes, { intraOpNumThreads: 1 });
  const common = { x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28], epochs, lr, lrDecay, seed, ...(shift ? { augment: randomShift(shift) } : {}) };
  const out: Record<string, number> = {};
  for (const arm of arms) {
    const m = arm === 'kd'
      ? (await distill(studentOf(seed), { ...common, teacher, alpha, temperature: T, mixup })).model
      : (await trainClassifier(studentOf(seed), { ...common, ...(arm === 'cemix' ? { mixup } : {}) })).model;
    out[arm] = await acc(m);
  }
  await teacher.release?.();
  return out;
}

if (worker) {
  console.log(JSON.stringify(await runSeed(seeds[0]!)));
} else {
  const teacherAcc = await acc(zoo.model);
  const tp = params(zoo.model);
  const sp = params(studentOf(1));
  console.log(`teacher LeNet-5: ${tp} parameters, ${teacherAcc.toFixed(2)} % (onnxruntime-node, ${data.test.labels.length} test images)`);
  console.log(`student ${studentName}: ${sp} parameters (${(tp / sp).toFixed(1)}x fewer; the bar is <= ${Math.floor(tp / 8)})`);
  console.log(`recipe: ${epochs} epochs, Adam lr ${lr} x${lrDecay} per epoch, batch 64; every arm: random shifts up to ${shift} px${mixup ? `, then mixup Beta(${mixup}, ${mixup}) (cemix/kd)` : ''}; distillation T ${T}, alpha ${alpha}`);
  const results = await runSeeds(seeds, {
    script: fileURLToPath(import.meta.url),
    workerArgs: (s) => seedWorkerArgs(argv, s),
    jobs,
    inProcess: runSeed,
    onSeed: (s, r, secs) => console.log(`seed ${s}: ${arms.map((a) => `${a} ${r[a]!.toFixed(2)} %`).join(', ')} (${secs.toFixed(0)} s)`),
  });
  const mean = (xs: number[]): number => meanSd(xs).mean;
  const sd = (xs: number[]): number => meanSd(xs).sd;
  const per = (arm: string): number[] => seeds.map((s) => results.get(s)![arm]!);
  for (const arm of arms) {
    const xs = per(arm);
    console.log(`${LABEL[arm] ?? arm}: ${mean(xs).toFixed(2)} ± ${sd(xs).toFixed(2)} % over seeds ${seeds.join(',')} (${xs.map((x) => x.toFixed(2)).join(', ')}); teacher − mean = ${(teacherAcc - mean(xs)).toFixed(2)} pt`);
  }
  if (arms.includes('kd')) {
    for (const base of arms.filter((a) => a !== 'kd')) {
      const d = seeds.map((s) => results.get(s)!.kd! - results.get(s)![base]!);
      console.log(`kd − ${base}: ${mean(d).toFixed(2)} ± ${sd(d).toFixed(2)} pt per seed (${d.map((x) => x.toFixed(2)).join(', ')})`);
    }
    const m = mean(per('kd'));
    console.log(`bar: student <= 1/8 of the teacher's parameters: ${sp <= tp / 8 ? 'yes' : 'NO'}; within 1.5 pt of the teacher: ${teacherAcc - m <= 1.5 ? 'yes' : 'NO'}`);
  }
}
