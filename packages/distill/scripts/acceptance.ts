/**
 * Acceptance (issue 7): teacher = Whittle's LeNet-5 (zoo), student with < 1/8 of the teacher's
 * parameters — the classic small LeNet (conv 6@5x5, conv 16@5x5, fc 120, fc 10; `--student cnn`,
 * default) or an MLP 784-64-10 (`--student mlp`) — trained by distillation vs on labels alone,
 * same epochs, data and augmentation, 3 seeds each, accuracy in onnxruntime-node on the 2,004
 * MNIST test images.
 *
 *   node --conditions=@whittle/source --import tsx scripts/acceptance.ts [--student cnn|mlp] [--filters 6,16] [--fc 120] [--epochs N] [--shift S] [--T t] [--alpha a] [--decay d] [--seeds 1,2,3]
 */
import { convNetTemplate, mlpTemplate, randomShift, trainClassifier, type Model } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { mnistData, zooModel } from '@whittle/testing/zoo';
import { distill } from '../src/index.js';
import { ortTeacher } from '../src/node.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const epochs = arg('epochs', 20);
const shift = arg('shift', 1);
const T = arg('T', 4);
const alpha = arg('alpha', 0.9);
const lr = 2e-3;
const lrDecay = arg('decay', 0.92);
const seedsArg = process.argv.indexOf('--seeds');
const seeds = seedsArg >= 0 ? process.argv[seedsArg + 1]!.split(',').map(Number) : [1, 2, 3];

const data = await mnistData();
const zoo = await zooModel('lenet5');
const params = (m: Model): number => [...m.graph.initializers.values()].reduce((s, t) => s + t.size, 0);
const kind = process.argv.includes('mlp') ? 'mlp' : 'cnn';
// --filters a,b --fc n: conv widths and hidden fc width of the CNN student (default 6,16 / 120)
const fi = process.argv.indexOf('--filters');
const filters = fi >= 0 ? process.argv[fi + 1]!.split(',').map(Number) : [6, 16];
const fc = arg('fc', 120);
const studentName = kind === 'mlp' ? 'MLP 784-64-10' : `small LeNet (${filters.join('-')} conv, ${fc} fc)`;
const studentOf = (seed: number): Model =>
  kind === 'mlp'
    ? mlpTemplate({ layers: [784, 64, 10], flattenInput: [1, 28, 28] }, new Rng(seed))
    : convNetTemplate({ input: [1, 28, 28], convs: filters.map((f) => ({ filters: f, kernel: 5 })), fc: [fc, 10], name: 'small_lenet' }, new Rng(seed));
const acc = async (m: Model): Promise<number> => (await evaluateAccuracyOrt(writeModel(m), data.test.images, data.test.labels, { sampleShape: [1, 28, 28] })).accuracy * 100;
const teacherAcc = await acc(zoo.model);
console.log(`teacher LeNet-5: ${params(zoo.model)} parameters, ${teacherAcc.toFixed(2)} %; student ${studentName}: ${params(studentOf(1))} parameters (${(params(zoo.model) / params(studentOf(1))).toFixed(1)}x fewer)`);
console.log(`recipe: ${epochs} epochs, Adam lr ${lr} x${lrDecay} per epoch, batch 64, random shifts up to ${shift} px for both; distillation T ${T}, alpha ${alpha}`);
const teacher = await ortTeacher(zoo.bytes);
const stats = (xs: number[]): string => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return `${m.toFixed(2)} ± ${sd.toFixed(2)} % (${xs.map((x) => x.toFixed(2)).join(', ')})`;
};
const kd: number[] = [];
const ce: number[] = [];
for (const seed of seeds) {
  const t0 = performance.now();
  const d = await distill(studentOf(seed), {
    teacher, x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28], epochs, lr, lrDecay, seed, alpha, temperature: T,
    ...(shift ? { augment: randomShift(shift) } : {}),
  });
  kd.push(await acc(d.model));
  const l = await trainClassifier(studentOf(seed), {
    x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28], epochs, lr, lrDecay, seed, ...(shift ? { augment: randomShift(shift) } : {}),
  });
  ce.push(await acc(l.model));
  console.log(`seed ${seed}: distilled ${kd[kd.length - 1]!.toFixed(2)} %, labels only ${ce[ce.length - 1]!.toFixed(2)} % (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
await teacher.release?.();
console.log(`distilled:   ${stats(kd)}  (teacher − mean = ${(teacherAcc - kd.reduce((a, b) => a + b, 0) / kd.length).toFixed(2)} pt)`);
console.log(`labels only: ${stats(ce)}`);
