/**
 * Suite `ort_speed`: do compressed models run faster in onnxruntime-node (CPU)?
 * fp32 vs static int8 (QDQ, fused by onnxruntime) vs dynamic int8 vs int4 (MatMulNBits,
 * accuracy_level 4; and int4 QDQ for contrast) for LeNet-300-100, LeNet-5 (MNIST zoo) and the
 * torchvision-style ResNet-18 fixture (224x224, BN folded), at batch 1 and 8, 1 thread; and a
 * BERT-style encoder (6 layers, d 512, FFN 2048, vocab 8192, sequence 128: 23.2M parameters)
 * with dynamic int8 (per-tensor / per-channel int8 weights, uint8 weights for contrast) and int4
 * MatMulNBits at batch 1 and 8, 1 thread and onnxruntime's default threads. All variants of a
 * model are timed interleaved in the same run (medians of per-round medians), so ratios hold
 * under load. Also top-1 agreement of int8 vs fp32 on inputs disjoint from the calibration ones
 * (encoder: cosine of the hidden states) and the fused ops onnxruntime's optimized graph holds.
 * `pnpm bench ort_speed [--quick] [--only lenet|resnet|encoder]` (--quick: ResNet-18 at 112x112,
 * 3 rounds).
 */
import * as ort from 'onnxruntime-node';
import { type Feeds, type Model, normalizeModel, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { compareLatencyOrt } from '@whittle/eval/node';
import { mnistData, zooModel } from '@whittle/testing/zoo';
import { torchTransformerEncoder, torchvisionResnet18 } from '@whittle/testing/exporters';
import '@whittle/quantize';
import { timeInterleaved } from '../ort_interleaved.js';
import { ortFusedOps } from '../ort_fused_ops.js';

interface Case {
  name: string;
  model: Model;
  sample: number[];
  calibration: () => AsyncGenerator<Feeds>;
  /** Evaluation inputs (disjoint from calibration) and their count. */
  evalX: Float32Array;
  evalN: number;
}

async function top1(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const out = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, dims) }))[s.outputNames[0]!]!;
  await s.release();
  const d = out.data as Float32Array;
  const c = out.dims[1]!;
  return Array.from({ length: dims[0]! }, (_, i) => {
    let b = 0;
    for (let k = 1; k < c; k++) if (d[i * c + k]! > d[i * c + b]!) b = k;
    return b;
  });
}

async function mnistCase(name: 'lenet300100' | 'lenet5'): Promise<Case> {
  const data = await mnistData();
  const { model } = await zooModel(name);
  const input = model.graph.inputs[0]!.name;
  const pick = (split: Float32Array, idx: number[]): Float32Array => {
    const x = new Float32Array(idx.length * 784);
    idx.forEach((j, i) => x.set(split.subarray(j * 784, (j + 1) * 784), i * 784));
    return x;
  };
  return {
    name: name === 'lenet5' ? 'LeNet-5' : 'LeNet-300-100',
    model,
    sample: [1, 28, 28],
    // calibration: 256 training images across all digits; evaluation: the whole test split
    calibration: async function* () {
      for (let b = 0; b < 4; b++) yield { [input]: tensor(pick(data.train.images, Array.from({ length: 64 }, (_, i) => ((b * 64 + i) * 31) % data.train.labels.length)), [64, 1, 28, 28]) };
    },
    evalX: data.test.images,
    evalN: data.test.labels.length,
  };
}

async function resnetCase(size: number): Promise<Case> {
  const model = (await normalizeModel(torchvisionResnet18({ height: size, width: size }))).model;
  const per = 3 * size * size;
  // smooth random images (sums of low-frequency sinusoids): seeds 1-8 calibrate, 101+ evaluate
  const images = (n: number, seed: number): Float32Array => {
    const rng = new Rng(seed);
    const x = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const [a, b, p, q] = [rng.uniform(0.5, 4), rng.uniform(0.5, 4), rng.uniform(0, 6.28), rng.uniform(0, 6.28)];
        for (let y = 0; y < size; y++) for (let z = 0; z < size; z++) x[i * per + c * size * size + y * size + z] = Math.sin((a * y) / size * 6.28 + p) * Math.cos((b * z) / size * 6.28 + q) + 0.3 * rng.normal();
      }
    }
    return x;
  };
  const evalN = 64;
  return {
    name: `ResNet-18 (${size}x${size})`,
    model,
    sample: [3, size, size],
    calibration: async function* () {
      for (let b = 0; b < 4; b++) yield { input: tensor(images(4, 1 + b), [4, 3, size, size]) };
    },
    evalX: images(evalN, 101),
    evalN,
  };
}

const ENCODER = { layers: 6, dModel: 512, heads: 8, ffn: 2048, vocab: 8192, maxPositions: 128 };
const SEQ = 128;

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

/** Seeded token ids [batch, SEQ] (seed 1: timing; seed 2: the accuracy check). */
function ids(batch: number, seed: number): Record<string, ort.Tensor> {
  const rng = new Rng(seed);
  return { input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: batch * SEQ }, () => BigInt(rng.int(ENCODER.vocab))), [batch, SEQ]) };
}

async function hidden(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const out = (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return out;
}

/** The BERT-style encoder: fp32 vs dynamic int8 variants, batch 1 and 8, 1 thread and default threads. */
async function encoderBench(rounds: number): Promise<void> {
  const model = (await normalizeModel(torchTransformerEncoder(ENCODER))).model;
  let params = 0;
  for (const t of model.graph.initializers.values()) params += t.size;
  const variants: [string, Model][] = [['fp32', model]];
  variants.push(['dynamic int8 (per-tensor, default)', (await runPass('quantize-dynamic', model, {})).model]);
  variants.push(['dynamic int8 per-channel', (await runPass('quantize-dynamic', model, { perChannel: true })).model]);
  variants.push(['dynamic uint8 weights', (await runPass('quantize-dynamic', model, { weightType: 'uint8' })).model]);
  variants.push(['int4 MatMulNBits acc4', (await runPass('quantize-weights', model, { bits: 4, blockSize: 32, format: 'matmulnbits', accuracyLevel: 4 })).model]);
  const bytes = variants.map(([, m]) => writeModel(m));
  const settings = [1, 0] as const;
  const ms = new Map<number, number[][]>();
  for (const threads of settings) ms.set(threads, await timeInterleaved(bytes, (b) => ids(b, 1), { batches: [1, 8], rounds, threads }));
  const check = ids(4, 2);
  const ref = await hidden(bytes[0]!, check);
  console.log(`\nBERT-style encoder (${ENCODER.layers} layers, d ${ENCODER.dModel}, ${ENCODER.heads} heads, FFN ${ENCODER.ffn}, vocab ${ENCODER.vocab}, sequence ${SEQ}; ${(params / 1e6).toFixed(1)}M parameters): speedup = fp32 ms / variant ms; "default" = onnxruntime's default intra-op threads`);
  console.log('| variant | size | b1 1T ms | b1 1T | b8 1T ms | b8 1T | b1 default ms | b1 default | b8 default ms | b8 default | cosine vs fp32 | onnxruntime optimized graph |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const [i, [name]] of variants.entries()) {
    const cells: string[] = [];
    for (const threads of settings) {
      for (const b of [0, 1]) {
        const t = ms.get(threads)![b]!;
        cells.push(t[i]!.toFixed(1), `${(t[0]! / t[i]!).toFixed(2)}x`);
      }
    }
    const cos = i === 0 ? 1 : cosine(ref, await hidden(bytes[i]!, check));
    const ops = await ortFusedOps(bytes[i]!, ['MatMul', 'FusedMatMul', 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'MatMulNBits', 'DequantizeLinear', 'Add']);
    console.log(`| ${name} | ${(bytes[i]!.length / 1e6).toFixed(1)} MB | ${cells.join(' | ')} | ${cos.toFixed(4)} | ${ops} |`);
  }
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rounds = quick ? 3 : 7;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''} CPU; speedup = fp32 time / variant time, interleaved in one run, median of ${rounds} rounds`);
  const cases: Case[] = [];
  if (!only || only === 'lenet') cases.push(await mnistCase('lenet300100'), await mnistCase('lenet5'));
  if (!only || only === 'resnet') cases.push(await resnetCase(quick ? 112 : 224));
  for (const c of cases) {
    const variants: [string, Model][] = [['fp32', c.model]];
    const st = await runPass('quantize-static', c.model, {}, { calibration: c.calibration() });
    variants.push(['static int8 (QDQ)', st.model]);
    variants.push(['dynamic int8', (await runPass('quantize-dynamic', c.model, {})).model]);
    variants.push(['int4 MatMulNBits acc4', (await runPass('quantize-weights', c.model, { bits: 4, blockSize: 32, format: 'matmulnbits', accuracyLevel: 4 })).model]);
    variants.push(['int4 QDQ', (await runPass('quantize-weights', c.model, { bits: 4, blockSize: 32, format: 'qdq' })).model]);
    const bytes = variants.map(([, m]) => writeModel(m));
    const cmp = await compareLatencyOrt(bytes, { sampleShape: c.sample, batchN: 8, rounds, baselineName: 'fp32' });
    const ref = await top1(bytes[0]!, c.evalX, [c.evalN, ...c.sample]);
    console.log(`\n${c.name}: static int8 ${JSON.stringify(st.report.details?.ortFusion ? (st.report.details.ortFusion as { fused: unknown }).fused : {})}`);
    console.log('| variant | size | b1 ms | b1 speedup | b8 ms | b8 speedup | top-1 agreement vs fp32 |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const [i, [name]] of variants.entries()) {
      const v = cmp[i]!;
      const t = await top1(bytes[i]!, c.evalX, [c.evalN, ...c.sample]);
      const agree = t.filter((x, k) => x === ref[k]).length / c.evalN;
      console.log(`| ${name} | ${(bytes[i]!.length / 1e6).toFixed(2)} MB | ${v.batch1.medianMs.toFixed(3)} | ${v.batch1.speedup.toFixed(2)}x | ${v.batchN!.medianMs.toFixed(3)} | ${v.batchN!.speedup.toFixed(2)}x${v.slower ? ' (slower)' : ''} | ${(agree * 100).toFixed(1)} % (n=${c.evalN}) |`);
    }
  }
  if (!only || only === 'encoder') await encoderBench(rounds);
}
