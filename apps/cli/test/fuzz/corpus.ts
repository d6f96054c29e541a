/**
 * Seed models for the fuzzer: a trained MNIST MLP, a small CNN, a model with external data, a
 * model with If subgraphs, and what Whittle itself writes (MatMulNBits int4, QDQ int8), so that
 * mutations start from real, varied files.
 */
import { readFileSync } from 'node:fs';
import '@whittle/quantize';
import { GraphBuilder, convNetTemplate, getPass, mlpTemplate, runPass, type Feeds, type Model } from '@whittle/graph';
import { encodeModel, writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { ZOO_DIR, cacheName } from '@whittle/testing/zoo';
import { join } from 'node:path';

export interface Seed {
  name: string;
  bytes: Uint8Array;
  /** External data files the model may reference (location → bytes). */
  externalData: Map<string, Uint8Array>;
}

function ifModel(): Model {
  const rng = new Rng(3);
  const branch = (name: string, scale: number): ReturnType<GraphBuilder['build']> => {
    const g = new GraphBuilder(name);
    const w = g.initializer(`${name}_w`, tensor(Float32Array.from({ length: 16 }, () => rng.uniform() * scale), [4, 4], 'float32', { backend: 'cpu' }));
    const y = g.node('MatMul', ['x', w], {}, { outputNames: [`${name}_y`] });
    g.output(y, 'float32', [1, 4]);
    return g.build();
  };
  const b = new GraphBuilder('if_model');
  const x = b.input('x', 'float32', [1, 4]);
  const c = b.input('cond', 'bool', []);
  const y = b.node('If', [c], { then_branch: branch('then', 1), else_branch: branch('else', -1) });
  const z = b.node('Relu', [y]);
  b.output(z, 'float32', [1, 4]);
  void x;
  return b.model([{ domain: '', version: 17 }]);
}

async function quantized(m: Model, pass: string, options: Record<string, unknown>, calibration?: () => AsyncGenerator<Feeds>): Promise<Uint8Array> {
  const r = await runPass(getPass(pass), m, options, { seed: 1, ...(calibration ? { calibration: calibration() } : {}) });
  return writeModel(r.model);
}

/** Build every seed (deterministic). */
export async function buildCorpus(): Promise<Seed[]> {
  const none = new Map<string, Uint8Array>();
  const lenet = new Uint8Array(readFileSync(join(ZOO_DIR, cacheName('lenet300100'))));
  const cnn = convNetTemplate({ input: [1, 12, 12], convs: [{ filters: 4, kernel: 3 }], fc: [16, 10] }, new Rng(7));
  const mlp = mlpTemplate({ layers: [32, 24, 10] }, new Rng(8));
  const ext = encodeModel(mlp, { externalData: { location: 'weights.bin', sizeThreshold: 128 } });
  const extFile = new Uint8Array(ext.externalData!.size);
  let o = 0;
  for (const c of ext.externalData!.chunks) {
    extFile.set(c, o);
    o += c.length;
  }
  const calib = async function* (): AsyncGenerator<Feeds> {
    const r = new Rng(2);
    yield { input: tensor(Float32Array.from({ length: 8 * 144 }, () => r.uniform()), [8, 1, 12, 12], 'float32', { backend: 'cpu' }) };
  };
  return [
    { name: 'lenet300100', bytes: lenet, externalData: none },
    { name: 'cnn', bytes: writeModel(cnn), externalData: none },
    { name: 'mlp-external', bytes: ext.model, externalData: new Map([['weights.bin', extFile]]) },
    { name: 'if', bytes: writeModel(ifModel()), externalData: none },
    { name: 'mlp-int4', bytes: await quantized(mlp, 'quantize-weights', { bits: 4, format: 'matmulnbits', blockSize: 16 }), externalData: none },
    { name: 'cnn-qdq', bytes: await quantized(cnn, 'quantize-static', {}, calib), externalData: none },
  ];
}
