/**
 * Acceptance on Whittle's zoo models, accuracy in onnxruntime-node on the 2,004 MNIST
 * test images: 90 % global unstructured (one-shot and gradual with fine-tuning), 2:4 with
 * fine-tuning (pattern checked on every pruned weight), structured 50 % of LeNet-5's filters and
 * fc neurons with fine-tuning.
 *
 *   node --conditions=@whittle/source --import tsx scripts/acceptance.ts [lenet300100] [lenet5]
 */
import { type Model, arrayBatches, randomShift, runPass, trainClassifier } from '@whittle/graph';
import { Adam, Rng, crossEntropy, type Tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { mnistData, zooModel, type ZooName } from '@whittle/testing/zoo';
import { checkNMPattern, fineTuneWithMasks, findPrunableWeights } from '../src/index.js';

const names = (process.argv.slice(2).filter((a) => !a.startsWith('--')) as ZooName[]);
if (!names.length) names.push('lenet300100', 'lenet5');
const data = await mnistData();
const training = { x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28] };
const acc = async (m: Model): Promise<number> => (await evaluateAccuracyOrt(writeModel(m), data.test.images, data.test.labels, { sampleShape: [1, 28, 28] })).accuracy * 100;
const secs = (t: number): string => `${((performance.now() - t) / 1000).toFixed(0)} s`;

/** Fine-tune holding the model's current zeros (masks) for `epochs`. */
async function holdAndTune(m: Model, epochs: number, lr: number): Promise<Model> {
  const rng = new Rng(1);
  const input = m.graph.inputs[0]!.name;
  const out = m.graph.outputs[0]!.name;
  return (await fineTuneWithMasks(m, {
    epochs,
    data: () => arrayBatches({ ...training, batchSize: 64, inputName: input, rng }),
    loss: (o, b) => crossEntropy(o.get(out)!, b.labels as Tensor),
    optimizer: (p) => new Adam(p, { lr }),
  })).model;
}

for (const name of names) {
  const zoo = await zooModel(name);
  const base = await acc(zoo.model);
  const epochs = 8;
  // fine-tune with the augmentation the zoo model was trained with (LeNet-5: 2-px shifts)
  const shift = name === 'lenet5' ? 2 : 0;
  console.log(`${name}: baseline ${base.toFixed(2)} %`);
  let t = performance.now();
  const oneShot = (await runPass('prune-unstructured', zoo.model, { sparsity: 0.9, scope: 'global' })).model;
  console.log(`  90 % global one-shot (no fine-tuning): ${(await acc(oneShot)).toFixed(2)} % (drop ${(base - (await acc(oneShot))).toFixed(2)} pt)`);
  const gradual = await runPass('prune-gradual', zoo.model, { targetSparsity: 0.9, scope: 'global', epochs, lr: 1e-3, lrDecay: 0.85, rampFraction: 0.5, frequency: 20, shift }, { seed: 1, training });
  const ga = await acc(gradual.model);
  console.log(`  90 % global gradual + fine-tuning (${epochs} epochs${shift ? `, ${shift}-px shifts` : ''}, ${secs(t)}): ${ga.toFixed(2)} % (drop ${(base - ga).toFixed(2)} pt); ${gradual.report.summary}`);
  t = performance.now();
  const nm = (await runPass('prune-nm', zoo.model, { n: 2, m: 4 })).model;
  const nmOne = await acc(nm);
  const nmTuned = await holdAndTune(nm, name === 'lenet5' ? 2 : 4, 5e-4);
  const nmAcc = await acc(nmTuned);
  const checks = findPrunableWeights(nmTuned).map((w) => ({ w: w.weight, c: checkNMPattern(nmTuned.graph.initializers.get(w.weight)!, 2, 4, w.inputAxis) }));
  const allOk = checks.every(({ c }) => c.ok);
  if (!allOk) console.log(`  2:4 violations: ${JSON.stringify(checks.filter(({ c }) => !c.ok))}`);
  console.log(`  2:4 one-shot ${nmOne.toFixed(2)} %, + fine-tuning (${secs(t)}): ${nmAcc.toFixed(2)} % (drop ${(base - nmAcc).toFixed(2)} pt); 2:4 pattern holds on every pruned weight: ${allOk}`);
  if (name === 'lenet5') {
    t = performance.now();
    const st = await runPass('prune-structured', zoo.model, { sparsity: 0.5 }, { seed: 1 });
    const stOne = await acc(st.model);
    const shapes = findPrunableWeights(st.model).map((w) => `${w.weight} [${w.shape.join('x')}]`).join(', ');
    const tuned = (await trainClassifier(st.model, { ...training, epochs: 4, lr: 1e-3, lrDecay: 0.8, seed: 1, augment: randomShift(2) })).model;
    const sa = await acc(tuned);
    console.log(`  structured 50 % one-shot ${stOne.toFixed(2)} %, + fine-tuning 4 epochs (${secs(t)}): ${sa.toFixed(2)} % (drop ${(base - sa).toFixed(2)} pt); ${st.report.summary}; shapes ${shapes}`);
  }
}
