import { describe, expect, it } from 'vitest';
import { Rng, tensor, type Tensor } from '@whittle/tensor';
import {
  GraphBuilder,
  GraphModule,
  type Model,
  type TrainingData,
  TrainingDataError,
  TrainingDivergedError,
  createPassContext,
  fineTunePass,
  maskedCrossEntropy,
  mlpTemplate,
  resolveTrainingData,
  runModel,
  trainingBatches,
  fineTuneOptions,
  nothingToTrainReason,
} from '../src/index.js';

const f32 = (v: ArrayLike<number>, shape: number[]): Tensor => tensor(Float32Array.from(v), shape, 'float32', { backend: 'cpu' });
const randn = (n: number, rng: Rng, std = 1): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * std);

async function runPass(model: Model, training: TrainingData, options: Record<string, unknown>, seed = 0) {
  const ctx = createPassContext({ seed, backend: 'cpu', training }, fineTuneOptions.parse(options, 'fine-tune'));
  return fineTunePass.run(model, ctx);
}

/** Sum over all of out·R for a fixed random R: a scalar whose gradient is R pushed back. */
async function probeLoss(model: Model, feeds: Record<string, Tensor>, module?: GraphModule): Promise<{ loss: Tensor; value: number }> {
  const outs = module ? await module.forward(feeds) : await runModel(model, feeds);
  const y = outs.get(model.graph.outputs[0]!.name)!;
  const r = new Rng(99);
  const R = f32(randn(y.size, r), [...y.shape]);
  const { sum, mul } = await import('@whittle/tensor');
  const loss = sum(mul(y, R));
  return { loss, value: await loss.item() };
}

/**
 * Central-difference check of d(sum(out·R))/d(initializer) for every trainable initializer of a
 * graph, entry by entry (up to 12 entries each), against autograd through the interpreter.
 */
async function gradientCheck(model: Model, feeds: Record<string, Tensor>): Promise<number> {
  const module = await GraphModule.create(model, { backend: 'cpu' });
  const { loss } = await probeLoss(model, feeds, module);
  loss.backward();
  let worst = 0;
  for (const [name, p] of module.parameters) {
    const g = p.grad!.dataSync() as Float32Array;
    const base = model.graph.initializers.get(name)!.dataSync() as Float32Array;
    const step = Math.max(1, Math.floor(base.length / 12));
    for (let i = 0; i < base.length; i += step) {
      const eps = 1e-2;
      const at = async (d: number): Promise<number> => {
        const v = Float32Array.from(base);
        v[i] = v[i]! + d;
        const inits = new Map(model.graph.initializers);
        inits.set(name, f32(v, [...p.shape]));
        return (await probeLoss({ ...model, graph: { ...model.graph, initializers: inits } }, feeds)).value;
      };
      const num = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      const err = Math.abs(num - g[i]!) / Math.max(1, Math.abs(num));
      worst = Math.max(worst, err);
    }
  }
  module.dispose();
  return worst;
}

/** A one-layer causal decoder: Gather embeddings, LayerNormalization, single-head attention (MatMul, Softmax, Where mask), LM head. */
function tinyDecoder(vocab: number, d: number, seed: number): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('tiny_decoder');
  b.input('input_ids', 'int64', ['batch', 'seq']);
  b.input('attention_mask', 'int64', ['batch', 'seq']);
  const w = (name: string, shape: number[], std: number) => b.initializer(name, f32(randn(shape.reduce((a, c) => a * c, 1), rng, std), shape));
  const wte = w('wte', [vocab, d], 0.5);
  const wpe = w('wpe', [16, d], 0.1);
  const ln = b.initializer('ln.scale', f32(new Array(d).fill(1), [d]));
  const lnb = b.initializer('ln.bias', f32(new Array(d).fill(0), [d]));
  const wq = w('wq', [d, d], 0.3);
  const wk = w('wk', [d, d], 0.3);
  const wv = w('wv', [d, d], 0.3);
  const head = w('head', [d, vocab], 0.3);
  const i64 = (v: number[], shape: number[]) => b.initializer(b.fresh('c'), tensor(BigInt64Array.from(v.map(BigInt)), shape, 'int64', { backend: 'cpu' }));
  const seqLen = b.node('Gather', [b.node('Shape', ['input_ids']), i64([1], [])], { axis: 0 });
  const pos = b.node('Range', [i64([0], []), seqLen, i64([1], [])]);
  let h = b.node('Add', [b.node('Gather', [wte, 'input_ids'], { axis: 0 }), b.node('Gather', [wpe, pos], { axis: 0 })]);
  const x = b.node('LayerNormalization', [h, ln, lnb], { axis: -1, epsilon: 1e-5 }, { floatAttrs: ['epsilon'] });
  const q = b.node('MatMul', [x, wq]);
  const k = b.node('MatMul', [x, wk]);
  const v = b.node('MatMul', [x, wv]);
  const scores = b.node('Mul', [b.node('MatMul', [q, b.node('Transpose', [k], { perm: [0, 2, 1] })]), b.initializer(b.fresh('s'), f32([1 / Math.sqrt(d)], []))]);
  const causal = b.node('LessOrEqual', [pos, b.node('Unsqueeze', [pos, i64([1], [1])])]); // [S, S]: key <= query
  const pad = b.node('Unsqueeze', [b.node('Cast', ['attention_mask'], { to: 9 }), i64([1], [1])]); // [B, 1, S]
  const allowed = b.node('And', [causal, pad]);
  const masked = b.node('Where', [allowed, scores, b.initializer(b.fresh('neg'), f32([-1e4], []))]);
  const attn = b.node('MatMul', [b.node('Softmax', [masked], { axis: -1 }), v]);
  h = b.node('Add', [h, attn]);
  const logits = b.node('MatMul', [h, head], {}, { outputNames: ['logits'] });
  b.output(logits, 'float32', ['batch', 'seq', vocab]);
  return b.model([{ domain: '', version: 17 }]);
}

describe('gradients of the ops a small transformer trains through (numeric check)', () => {
  const rng = new Rng(5);
  it('Gather (embedding table)', async () => {
    const b = new GraphBuilder('g');
    b.input('ids', 'int64', ['n']);
    const t = b.initializer('table', f32(randn(24, rng), [6, 4]));
    b.output(b.node('Gather', [t, 'ids'], { axis: 0 }), 'float32', ['n', 4]);
    const err = await gradientCheck(b.model([{ domain: '', version: 17 }]), { ids: tensor(BigInt64Array.from([1n, 3n, 1n, 5n]), [4], 'int64', { backend: 'cpu' }) });
    expect(err).toBeLessThan(2e-2);
  });
  it('LayerNormalization (scale, bias and the input)', async () => {
    const b = new GraphBuilder('ln');
    b.input('x', 'float32', [3, 5]);
    const w0 = b.initializer('w0', f32(randn(25, rng), [5, 5]));
    const y = b.node('MatMul', ['x', w0]);
    b.output(b.node('LayerNormalization', [y, b.initializer('s', f32(randn(5, rng), [5])), b.initializer('b', f32(randn(5, rng), [5]))], { axis: -1, epsilon: 1e-5 }, { floatAttrs: ['epsilon'] }), 'float32', [3, 5]);
    const err = await gradientCheck(b.model([{ domain: '', version: 17 }]), { x: f32(randn(15, rng), [3, 5]) });
    expect(err).toBeLessThan(2e-2);
  });
  it('Softmax and MatMul', async () => {
    const b = new GraphBuilder('sm');
    b.input('x', 'float32', [2, 3, 4]);
    const w0 = b.initializer('w0', f32(randn(16, rng), [4, 4]));
    b.output(b.node('Softmax', [b.node('MatMul', ['x', w0])], { axis: -1 }), 'float32', [2, 3, 4]);
    const err = await gradientCheck(b.model([{ domain: '', version: 17 }]), { x: f32(randn(24, rng), [2, 3, 4]) });
    expect(err).toBeLessThan(2e-2);
  });
  it('a whole causal decoder (Gather, LayerNormalization, attention with Where mask, LM head)', async () => {
    const model = tinyDecoder(7, 6, 3);
    const ids = tensor(BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n, 2n, 0n]), [2, 4], 'int64', { backend: 'cpu' });
    const mask = tensor(BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]), [2, 4], 'int64', { backend: 'cpu' });
    const err = await gradientCheck(model, { input_ids: ids, attention_mask: mask });
    expect(err).toBeLessThan(3e-2);
  });
});

describe('maskedCrossEntropy on any output shape', () => {
  it('matches a float64 reference per position, with ignored labels and the class axis in the middle', async () => {
    const rng = new Rng(1);
    const [B, C, S] = [2, 5, 3];
    const z = randn(B * C * S, rng, 2); // [B, C, S]: classes on axis 1
    const labels = [0, 4, -100, 2, 2, 1];
    let ref = 0;
    let n = 0;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const y = labels[b * S + s]!;
        if (y === -100) continue;
        const col = Array.from({ length: C }, (_, c) => z[b * C * S + c * S + s]!);
        const m = Math.max(...col);
        const lse = m + Math.log(col.reduce((a, v) => a + Math.exp(v - m), 0));
        ref += lse - col[y]!;
        n++;
      }
    }
    ref /= n;
    const ids = tensor(BigInt64Array.from(labels.map((v) => BigInt(v === -100 ? 0 : v))), [B, S], 'int64', { backend: 'cpu' });
    const w = f32(labels.map((v) => (v === -100 ? 0 : 1)), [B, S]);
    const got = await maskedCrossEntropy(f32(z, [B, C, S]), ids, w, n, 1).item();
    expect(got).toBeCloseTo(ref, 5);
  });
});

describe('fine-tune pass on data of any task', () => {
  it('trains a tabular MLP from feeds by input name and labels (accuracy from chance to > 90 %)', async () => {
    const rng = new Rng(2);
    const n = 300;
    const x = new Float32Array(n * 4);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 4; k++) x[i * 4 + k] = rng.normal();
      // three classes by two linear rules
      labels[i] = x[i * 4]! + x[i * 4 + 1]! > 0.5 ? 2 : x[i * 4 + 2]! - x[i * 4 + 3]! > 0 ? 1 : 0;
    }
    const model = mlpTemplate({ layers: [4, 32, 3], inputName: 'features' }, new Rng(0));
    const acc = async (m: Model): Promise<number> => {
      const out = (await runModel(m, { features: f32(x, [n, 4]) })).get('logits')!.dataSync() as Float32Array;
      let ok = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(out.subarray(i * 3, i * 3 + 3));
        if (row.indexOf(Math.max(...row)) === labels[i]) ok++;
      }
      return ok / n;
    };
    const before = await acc(model);
    const r = await runPass(model, { feeds: { features: { data: x, shape: [n, 4], dtype: 'float32' } }, labels }, { epochs: 30, lr: 0.01 });
    const after = await acc(r.model);
    console.log(`tabular fine-tune: accuracy ${before.toFixed(3)} -> ${after.toFixed(3)}; ${r.report.summary}`);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before + 0.2);
    expect(model.graph.initializers.get('fc1.weight')).not.toBe(r.model.graph.initializers.get('fc1.weight'));
  });

  it('regression with float targets (mse) reduces the error against a linear rule', async () => {
    const rng = new Rng(3);
    const n = 200;
    const x = randn(n * 3, rng);
    const y = Float32Array.from({ length: n }, (_, i) => 2 * x[i * 3]! - x[i * 3 + 1]! + 0.5 * x[i * 3 + 2]!);
    const model = mlpTemplate({ layers: [3, 16, 1] }, new Rng(1));
    const mse = async (m: Model): Promise<number> => {
      const out = (await runModel(m, { input: f32(x, [n, 3]) })).get('logits')!.dataSync() as Float32Array;
      return out.reduce((a, v, i) => a + (v - y[i]!) ** 2, 0) / n;
    };
    const before = await mse(model);
    const r = await runPass(model, { feeds: { input: { data: x, shape: [n, 3], dtype: 'float32' } }, targets: { data: y, shape: [n, 1], dtype: 'float32' } }, { epochs: 40, lr: 0.01 });
    const after = await mse(r.model);
    console.log(`regression fine-tune: mse ${before.toFixed(3)} -> ${after.toFixed(3)}`);
    expect(r.report.details?.['loss']).toBe('mse');
    expect(after).toBeLessThan(before / 10);
  });

  it('a learning rate far too high stops with a typed divergence error instead of returning the wrecked weights', async () => {
    const rng = new Rng(4);
    const n = 64;
    const x = randn(n * 3, rng);
    const y = Float32Array.from({ length: n }, (_, i) => x[i * 3]! - x[i * 3 + 1]!);
    const model = mlpTemplate({ layers: [3, 16, 1] }, new Rng(1));
    const data = { feeds: { input: { data: x, shape: [n, 3], dtype: 'float32' as const } }, targets: { data: y, shape: [n, 1], dtype: 'float32' as const } };
    const err = await runPass(model, data, { epochs: 2, lr: 1e9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(String((err as Error).message)).toMatch(/diverged; lower the learning rate/);
    // a sane rate on the same data trains as before
    expect((await runPass(model, data, { epochs: 2, lr: 0.01 })).report.changed).toBe(true);
  });

  it('a causal decoder learns next tokens from input_ids and attention_mask (lm loss, padding masked)', async () => {
    const vocab = 7;
    // sequences that count up modulo 6 (token 0 is padding): next token = current + 1
    const rng = new Rng(4);
    const n = 48;
    const S = 6;
    const ids = new BigInt64Array(n * S);
    const mask = new BigInt64Array(n * S);
    for (let i = 0; i < n; i++) {
      const start = 1 + Math.floor(rng.uniform() * 6);
      const len = 3 + Math.floor(rng.uniform() * (S - 2)); // 3..6 real tokens, the rest padded
      for (let t = 0; t < S; t++) {
        ids[i * S + t] = t < len ? BigInt(((start - 1 + t) % 6) + 1) : 0n;
        mask[i * S + t] = t < len ? 1n : 0n;
      }
    }
    const model = tinyDecoder(vocab, 12, 7);
    const data: TrainingData = { feeds: { input_ids: { data: ids, shape: [n, S], dtype: 'int64' }, attention_mask: { data: mask, shape: [n, S], dtype: 'int64' } } };
    const nextTokenAccuracy = async (m: Model): Promise<number> => {
      const out = (await runModel(m, { input_ids: tensor(ids, [n, S], 'int64', { backend: 'cpu' }), attention_mask: tensor(mask, [n, S], 'int64', { backend: 'cpu' }) })).get('logits')!.dataSync() as Float32Array;
      let ok = 0;
      let all = 0;
      for (let i = 0; i < n; i++) {
        for (let t = 0; t + 1 < S; t++) {
          if (!mask[i * S + t + 1]) continue;
          const row = Array.from(out.subarray((i * S + t) * vocab, (i * S + t + 1) * vocab));
          if (row.indexOf(Math.max(...row)) === Number(ids[i * S + t + 1])) ok++;
          all++;
        }
      }
      return ok / all;
    };
    const before = await nextTokenAccuracy(model);
    const r = await runPass(model, data, { epochs: 40, lr: 0.02, batchSize: 16 });
    const after = await nextTokenAccuracy(r.model);
    console.log(`decoder lm fine-tune: next-token accuracy ${before.toFixed(3)} -> ${after.toFixed(3)}; ${r.report.summary}`);
    expect(r.report.details?.['loss']).toBe('lm');
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before + 0.3);
  });

  it('lm labels are the tokens shifted by one, padding ignored', () => {
    const model = tinyDecoder(7, 4, 1);
    const ids = BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n, 0n, 0n]);
    const mask = BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n]);
    const r = resolveTrainingData({ feeds: { input_ids: { data: ids, shape: [2, 4], dtype: 'int64' }, attention_mask: { data: mask, shape: [2, 4], dtype: 'int64' } } }, model, { pass: 't' });
    const [batch] = [...trainingBatches(r, { batchSize: 2 })];
    expect(Array.from((batch!['targets'] as Tensor).dataSync() as BigInt64Array, Number)).toEqual([2, 3, 4, 6, 0, 0]);
    expect(Array.from((batch!['weights'] as Tensor).dataSync() as Float32Array)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(batch!['weightSum']).toBe(4);
  });

  it('image shorthand (x, sampleShape, labels) still resolves to one float input with augmentations', () => {
    const model = mlpTemplate({ layers: [16, 4, 2], flattenInput: [1, 4, 4] }, new Rng(0));
    const r = resolveTrainingData({ x: new Float32Array(3 * 16), labels: Int32Array.from([0, 1, 0]), sampleShape: [1, 4, 4] }, model, { pass: 't' });
    expect(r.image).toEqual({ input: 'input', sampleShape: [1, 4, 4] });
    expect(r.task.loss).toBe('ce');
    expect(r.count).toBe(3);
  });

  it('labels or token ids past the classes of the output the loss reads stop with a ShapeError naming the output', async () => {
    // an encoder: token ids up to 9 embedded in 4 dims, its output the hidden states [N, S, 4], no vocabulary logits
    const enc = new GraphBuilder('encoder');
    enc.input('input_ids', 'int64', ['N', 'S']);
    const h = enc.node('Gather', [enc.initializer('embeddings', f32(randn(40, new Rng(2)), [10, 4])), 'input_ids']);
    enc.node('MatMul', [h, enc.initializer('dense', f32(randn(16, new Rng(3)), [4, 4]))], {}, { outputNames: ['last_hidden_state'] });
    enc.output('last_hidden_state', 'float32', ['N', 'S', 4]);
    const n = 4;
    const S = 5;
    const ids = BigInt64Array.from({ length: n * S }, (_, i) => BigInt(i % 10));
    const lm: TrainingData = { feeds: { input_ids: { data: ids, shape: [n, S], dtype: 'int64' } } };
    await expect(runPass(enc.model(), lm, { epochs: 1 })).rejects.toThrow(/next-token loss: the token ids go up to 9, but the output 'last_hidden_state' \[4, 5, 4\] scores 4 classes on axis 2; .*--loss-output/);
    // class labels 0..4 for an MLP scoring 3 classes
    const model = mlpTemplate({ layers: [4, 3], inputName: 'features' }, new Rng(0));
    const ce: TrainingData = { feeds: { features: { data: new Float32Array(5 * 4), shape: [5, 4], dtype: 'float32' } }, labels: Int32Array.from([0, 1, 2, 3, 4]) };
    await expect(runPass(model, ce, { epochs: 1 })).rejects.toThrow(/cross-entropy: the labels go up to 4, but the output 'logits' \[5, 3\] scores 3 classes on axis 1/);
  });

  it('a model whose weights are read only inside If branches has nothing to train, and says where the weights are', async () => {
    const b = new GraphBuilder('main');
    b.input('x', 'float32', ['N', 4]);
    b.input('flag', 'bool', [1]);
    const w = b.initializer('w', f32(randn(16, new Rng(1)), [4, 4]));
    const branch = (name: string): ReturnType<GraphBuilder['build']> => {
      const g = new GraphBuilder(name);
      g.node('MatMul', ['x', w], {}, { outputNames: [`${name}_y`] });
      g.output(`${name}_y`, 'float32');
      return g.build();
    };
    b.nodeOutputs('If', ['flag'], { then_branch: { type: 'graph', value: branch('then') }, else_branch: { type: 'graph', value: branch('else') } }, { outputNames: ['y'] });
    b.output('y', 'float32', ['N', 4]);
    const model = b.model();
    expect(nothingToTrainReason(model)).toMatch(/no float32 weights in trainable slots of the main graph .*its 1 float32 weight\(s\) are inside If\/Loop\/Scan subgraphs/);
    const data: TrainingData = { feeds: { x: { data: new Float32Array(8), shape: [2, 4], dtype: 'float32' }, flag: { data: Uint8Array.from([1, 1]), shape: [2, 1], dtype: 'bool' } }, targets: { data: new Float32Array(8), shape: [2, 4], dtype: 'float32' } };
    const r = await runPass(model, data, { epochs: 1 });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/nothing to train: .*inside If\/Loop\/Scan subgraphs/);
    expect(nothingToTrainReason(mlpTemplate({ layers: [4, 3] }, new Rng(0)))).toBe('');
  });

  it('the loss reads the first float output by default, not a first output of integer labels (skl2onnx output_label)', () => {
    const b = new GraphBuilder('clf');
    b.input('x', 'float32', ['N', 4]);
    const scores = b.node('MatMul', ['x', b.initializer('w', f32(randn(12, new Rng(1)), [4, 3]))], {}, { outputNames: ['probabilities'] });
    b.node('ArgMax', [scores], { axis: 1, keepdims: 0 }, { outputNames: ['label'] });
    b.output('label', 'int64', ['N']);
    b.output('probabilities', 'float32', ['N', 3]);
    const data: TrainingData = { feeds: { x: { data: new Float32Array(8), shape: [2, 4], dtype: 'float32' } }, labels: Int32Array.from([0, 2]) };
    expect(resolveTrainingData(data, b.model(), { pass: 'fine-tune' }).task.output).toBe('probabilities');
    expect(resolveTrainingData({ ...data, task: { output: 'label' } }, b.model(), { pass: 'fine-tune' }).task.output).toBe('label');
  });

  it('refuses bad data with TrainingDataError naming the pass and the mismatch', () => {
    const model = mlpTemplate({ layers: [4, 3] }, new Rng(0));
    const feeds = { input: { data: new Float32Array(8), shape: [2, 4], dtype: 'float32' as const } };
    expect(() => resolveTrainingData(undefined, model, { pass: 'qat' })).toThrow(/qat: needs training data/);
    expect(() => resolveTrainingData({ feeds: { pixels: feeds.input } }, model, { pass: 'qat' })).toThrow(TrainingDataError);
    expect(() => resolveTrainingData({ feeds: { pixels: feeds.input } }, model, { pass: 'qat' })).toThrow(/'pixels', which is not an input of the model \(inputs: input\)/);
    expect(() => resolveTrainingData({ feeds, labels: Int32Array.from([0, 1, 2]) }, model, { pass: 'p' })).toThrow(/3 target\(s\)\/label\(s\) for 2 sample\(s\)/);
    expect(() => resolveTrainingData({ feeds }, model, { pass: 'p' })).toThrow(/loss ce needs labeled training data.*whittle distill --teacher/);
    expect(() => resolveTrainingData({ feeds }, model, { pass: 'p' })).not.toThrow(/--loss lm/); // float inputs: not a language model
    expect(() => resolveTrainingData({ feeds, labels: Int32Array.from([0, 1]), task: { output: 'nope' } }, model, { pass: 'p' })).toThrow(/'nope' is not an output of the model \(outputs: logits\)/);
    expect(() => resolveTrainingData({ feeds, targets: { data: new Float32Array(2), shape: [2], dtype: 'float32' }, task: { loss: 'ce' } }, model, { pass: 'p' })).toThrow(/use --loss mse/);
  });
});
