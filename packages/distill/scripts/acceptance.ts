/**
 * Acceptance. Teacher: Whittle's LeNet-5 trained 40 epochs on affine jitter (zoo
 * `lenet5jitter`, 431,080 parameters, 98.90 % in onnxruntime-node). Student: the small LeNet
 * (conv 6@5x5, conv 16@5x5, fc 120, fc 10; 34,622 parameters, 12.5x fewer), or an MLP 784-64-10
 * (`--student mlp`), or other widths (`--filters`, `--fc`). Arms, with the same seeds, initial
 * weights, epochs, Adam schedule, batch order and inputs:
 *   kd     distillation, alpha·T²·KL(teacher‖student) + (1 − alpha)·CE (with --mixup: function matching);
 *   ce     labels alone (the baseline);
 *   cemix  labels alone on the same mixed images (only meaningful with --mixup).
 * Accuracy is measured in onnxruntime-node on the 2,004 MNIST test images; per-seed numbers,
 * mean ± sample sd over the seeds, the per-seed kd − ce gap and parameter counts are printed.
 * Seeds run in parallel child processes (`--jobs`, default 3).
 *
 * Measured with the defaults (Hinton et al.'s setting: the teacher learnt the jitter, the student
 * sees the plain training images; 20 epochs, T 4, alpha 0.9; seeds 1, 2, 3):
 *   teacher 98.90 %; student 34,622 parameters
 *   kd     98.00 ± 0.35 % (98.00, 98.35, 97.65)   — 0.90 pt below the teacher
 *   ce     97.37 ± 0.26 % (97.16, 97.65, 97.31)
 *   kd − ce = +0.63 ± 0.26 pt per seed (0.85, 0.70, 0.35): distillation wins on every seed.
 * When the student's inputs are augmented as well (the same augmentation in both arms), labels
 * alone close the gap and distillation gains nothing measurable (all 3 seeds, T 4, alpha 0.9):
 *   shifts ≤ 1 px (`--shift 1`): kd 97.99 ± 0.19 vs ce 97.94 ± 0.15 (teacher file from the same
 *     recipe trained with fused multiply-add, 99.00 %);
 *   wider student 12-24/64 (`--filters 12,24 --fc 64 --shift 1`, 32,826 parameters): kd 98.17 ± 0.19 vs ce 98.30 ± 0.28;
 *   affine jitter (`--shift 2 --rotate 10 --scale 0.08`) with the 98.60 % 30-epoch teacher: kd 98.12 ± 0.28 vs ce 98.17 ± 0.27.
 * With the older, shorter-trained zoo `lenet5` teacher (98.20 %, `--teacher lenet5`) and shifts,
 * no student beat labels (measured earlier: 97.46–97.74 % vs 97.94 %).
 *
 *   node --conditions=@whittle/source --import tsx scripts/acceptance.ts [--teacher lenet5jitter|lenet5|FILE.onnx]
 *     [--student cnn|mlp] [--filters 6,16] [--fc 120] [--epochs N] [--shift S] [--rotate D --scale F] [--mixup a]
 *     [--T t] [--alpha a] [--decay d] [--seeds 1,2,3] [--arms kd,ce,cemix] [--jobs n]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convNetTemplate, imageJitter, mlpTemplate, trainClassifier, type Model } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { readModel, writeModel } from '@whittle/onnx';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { ZOO_NAMES, mnistData, zooModel, type ZooName } from '@whittle/testing/zoo';
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
const shift = num('shift', 0);
const mixup = num('mixup', 0);
const rot = num('rotate', 0);
const scl = num('scale', 0);
const T = num('T', 4);
const alpha = num('alpha', 0.9);
const lr = 2e-3;
const lrDecay = num('decay', 0.92);
const arms = str('arms', mixup ? 'kd,ce,cemix' : 'kd,ce').split(',');
const seeds = list('seeds', '1,2,3');
const jobs = num('jobs', 3);
const worker = argv.includes('--worker');
const kind = str('student', 'cnn');
const filters = list('filters', '6,16');
const fcs = list('fc', '120');
const LABEL: Record<string, string> = { kd: mixup ? 'distilled (function matching)' : 'distilled', ce: mixup ? 'labels only, no mixup' : 'labels only', cemix: 'labels only, mixup' };

const data = await mnistData();
const teacherArg = str('teacher', 'lenet5jitter');
const zoo = ZOO_NAMES.includes(teacherArg as ZooName) ? await zooModel(teacherArg as ZooName) : await (async () => { const bytes = new Uint8Array(readFileSync(teacherArg)); return { bytes, model: await readModel(bytes) }; })();
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
  const augment = imageJitter({ shift, rotate: rot, scale: scl });
  const common = { x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28], epochs, lr, lrDecay, seed, ...(augment ? { augment } : {}) };
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
  console.log(`recipe: ${epochs} epochs, Adam lr ${lr} x${lrDecay} per epoch, batch 64; student inputs: ${rot || scl ? `affine jitter ±${rot}°, scale ±${scl}, shift ±${shift} px` : shift ? `random shifts up to ${shift} px` : 'the plain training images'}${mixup ? `, then mixup Beta(${mixup}, ${mixup}) (cemix/kd)` : ''}; distillation T ${T}, alpha ${alpha}`);
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
