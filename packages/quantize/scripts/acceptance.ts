/**
 * Acceptance measurements on the zoo's MNIST models (accuracy in onnxruntime-node, file sizes).
 * Run: cd packages/quantize && node --conditions=@whittle/source --import tsx scripts/acceptance.ts [lenet300100|lenet5] [steps...]
 */
import { runPass, type Feeds, type Model } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { tensor } from '@whittle/tensor';
import { mnistData, zooModel, type ZooName } from '@whittle/testing/zoo';
import '../src/index.js';

const names = (process.argv[2] ? [process.argv[2]] : ['lenet300100', 'lenet5']) as ZooName[];
const steps = new Set(process.argv.slice(3));
const want = (s: string): boolean => steps.size === 0 || steps.has(s);

async function main(): Promise<void> {
  const data = await mnistData();
  const calib = (n: number, batch = 64, offset = 0) => (async function* (): AsyncGenerator<Feeds> {
    for (let s = offset; s < offset + n; s += batch) {
      const m = Math.min(batch, offset + n - s);
      yield { input: tensor(data.train.images.slice(s * 784, (s + m) * 784), [m, 1, 28, 28], 'float32', { backend: 'cpu' }) };
    }
  })();
  for (const name of names) {
    const zoo = await zooModel(name);
    const base = zoo.model;
    const baseBytes = writeModel(base).length;
    const acc = async (m: Model) => (await evaluateAccuracyOrt(m, data.test.images, data.test.labels)).accuracy * 100;
    const a0 = await acc(base);
    console.log(`\n## ${name}: fp32 accuracy ${a0.toFixed(2)}% (zoo says ${(zoo.testAccuracy * 100).toFixed(2)}%), ${baseBytes} bytes`);
    const row = async (label: string, m: Model, extra = ''): Promise<void> => {
      const bytes = writeModel(m).length;
      const a = await acc(m);
      console.log(`| ${label} | ${a.toFixed(2)}% | ${(a0 - a).toFixed(2)} pt | ${bytes} | ${(bytes / baseBytes).toFixed(3)}x | ${extra}`);
    };
    const training = { x: data.train.images, labels: data.train.labels, sampleShape: [1, 28, 28] };
    const run = async (pass: string, opts: Record<string, unknown>, calibration?: () => AsyncIterable<Feeds>, train = false) =>
      runPass(pass, base, opts, { seed: 1, ...(calibration ? { calibration: calibration() } : {}), ...(train ? { training } : {}) });
    if (want('static')) {
      for (const calibrator of ['minmax', 'percentile', 'entropy', 'mse']) {
        const r = await run('quantize-static', { calibrator }, () => calib(512));
        await row(`static int8 QDQ ${calibrator}`, r.model);
      }
      const r = await run('quantize-static', { format: 'qoperator' }, () => calib(512));
      await row('static int8 QOperator minmax', r.model);
    }
    if (want('dynamic')) {
      await row('dynamic int8 per-tensor', (await run('quantize-dynamic', {})).model);
      await row('dynamic int8 per-channel', (await run('quantize-dynamic', { perChannel: true })).model);
    }
    if (want('rtn')) {
      for (const bits of [8, 4, 3, 2]) {
        for (const format of ['qdq', 'matmulnbits']) {
          const r = await run('quantize-weights', { bits, blockSize: 32, format, symmetric: bits >= 4 });
          await row(`RTN int${bits} block-32 ${format}${bits < 4 ? ' asym' : ''}`, r.model);
        }
      }
      await row('RTN int4 block-32 asym qdq', (await run('quantize-weights', { bits: 4, symmetric: false })).model);
    }
    if (want('gptq')) {
      for (const [bits, sym] of [[4, true], [4, false], [3, false], [2, false]] as const) {
        const r = await run('gptq', { bits, symmetric: sym, format: 'matmulnbits' }, () => calib(1024));
        const layers = r.report.details!.layers as { node: string; gptqOutputMse: number; rtnOutputMse: number }[];
        await row(`GPTQ int${bits} block-32 ${sym ? 'sym' : 'asym'} matmulnbits`, r.model, layers.map((l) => `${l.node} ${l.gptqOutputMse.toExponential(2)} vs RTN ${l.rtnOutputMse.toExponential(2)}`).join('; '));
      }
    }
    if (want('cluster')) {
      await row('cluster k=16, no fine-tuning', (await run('cluster-weights', { clusters: 16 })).model);
      await row('cluster k=16 + centroid fine-tuning (2 epochs)', (await run('cluster-weights', { clusters: 16, fineTuneEpochs: 2 }, undefined, true)).model);
    }
    if (want('qat')) {
      const r = await run('qat', { bits: 4, epochs: 2 }, undefined, true);
      await row('QAT int4 block-32 QDQ (2 epochs)', r.model, r.report.summary);
    }
    if (want('mixed')) {
      const r = await run('quantize-mixed', { lowBits: 2, highBits: 4, targetRatio: 0.12 }, () => calib(256));
      await row('mixed precision 2/4-bit, budget 0.12x', r.model, r.report.summary);
    }
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
