/**
 * Made-up audio long enough for the model's strided layers: a speech-encoder stem (convolutions
 * with kernels 127/7/3 and strides 64/3/2, as Moonshine's) turns the default 512 samples into a
 * zero-length sequence onnxruntime refuses. modelInputSpecs finds the smallest doubling of the
 * default whose shapes stay positive, and syntheticSource uses it unless told a size.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import * as ort from 'onnxruntime-node';
import { batchesOf, modelInputSpecs, syntheticSource } from '../src/index.js';

function stridedStem(): ReturnType<GraphBuilder['model']> {
  const rng = new Rng(3);
  const b = new GraphBuilder('stem');
  let x = b.node('Unsqueeze', [b.input('input_values', 'float32', ['batch_size', 'num_samples']), b.initializer('axis', tensor(BigInt64Array.from([1n]), [1], 'int64', { backend: 'cpu' }))]);
  let cin = 1;
  for (const [k, s, cout] of [[127, 64, 8], [7, 3, 8], [3, 2, 8]] as const) {
    const w = Float32Array.from({ length: cout * cin * k }, () => rng.normal() * 0.1);
    x = b.node('Conv', [x, b.initializer(`w${k}`, tensor(w, [cout, cin, k], 'float32', { backend: 'cpu' }))], { kernel_shape: attr.ints([k]), strides: attr.ints([s]) });
    cin = cout;
  }
  b.nodeOutputs('Identity', [x], {}, { outputNames: ['last_hidden_state'] });
  b.output('last_hidden_state', 'float32', ['batch_size', 8, 'frames']);
  return b.model([{ domain: '', version: 17 }]);
}

describe('made-up signals the model can take', () => {
  it('a strided convolution stem gets the smallest doubling of 512 samples that leaves every length positive, and onnxruntime runs it', async () => {
    const m = stridedStem();
    const specs = modelInputSpecs(m);
    // exact minimum: 127 + 64·((7 + 3·(3 − 1)) − 1) = 895 samples; the doubling that reaches it is 1024
    expect(specs[0]!.minDims).toEqual({ 1: 1024 });
    const src = syntheticSource(specs, { count: 2 });
    expect(src.description).toMatch(/num_samples=1024 \(signal length; 512 collapses to nothing in the model's strided layers\)/);
    const batches = [];
    for await (const b of batchesOf(src, { inputs: specs, batchSize: 2 })) batches.push(b);
    const batch = batches[0];
    expect(batch!.feeds['input_values']!.shape).toEqual([2, 1024]);
    const s = await ort.InferenceSession.create(writeModel(m));
    const f = batch!.feeds['input_values']!;
    const out = await s.run({ input_values: new ort.Tensor('float32', (await f.data()) as Float32Array, f.shape as number[]) });
    // frames: (1024 − 127)/64 + 1 = 15 → (15 − 7)/3 + 1 = 3 → (3 − 3)/2 + 1 = 1
    expect(out['last_hidden_state']!.dims).toEqual([2, 8, 1]);
    await s.release();
    // a size the caller gives is the caller's
    expect(syntheticSource(specs, { count: 1, signalDim: 4096 }).description).toMatch(/num_samples=4096 \(signal length\)/);
  });

  it('a model the default fits gets no minimum', () => {
    const b = new GraphBuilder('plain');
    b.nodeOutputs('Identity', [b.input('audio', 'float32', ['N', 'T'])], {}, { outputNames: ['y'] });
    b.output('y', 'float32', ['N', 'T']);
    expect(modelInputSpecs(b.model()).map((s) => s.minDims)).toEqual([undefined]);
  });
});
