/**
 * The zoo decoder LM of @whittle/testing as the LM suites use it: held-out and training token
 * streams of its corpus, calibration windows, and the argument flags they share.
 */
import { basename } from 'node:path';
import { readModelFile } from '@whittle/onnx/node';
import type { Model } from '@whittle/graph';
import { type DecoderLmConfig, buildDecoderLm, decoderFeeds, lmZooModel } from '@whittle/testing/lm';
import { Rng, type Tensor, tensor } from '@whittle/tensor';

/** A decoder LM with its token streams. */
export interface Lm {
  name: string;
  model: Model;
  config: DecoderLmConfig;
  /** Held-out tokens (perplexity). */
  heldOut: number[];
  /** Training-side tokens (calibration), disjoint from heldOut. */
  train: number[];
}

/** A numeric `--name value` flag, else `dflt`. */
export const flag = (args: string[], name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** The trained zoo decoder of @whittle/testing (held-out and train token streams of its corpus). */
export async function loadLm(random: boolean): Promise<Lm> {
  if (random) {
    // plumbing check only: an untrained decoder's perplexity says nothing about compression
    const { model, config } = buildDecoderLm({ seed: 1, layers: 2, dModel: 64, vocab: 256 });
    const rng = new Rng(5);
    const ids = (n: number): number[] => Array.from({ length: n }, () => Math.floor(rng.uniform(0, config.vocab)));
    return { name: 'untrained buildDecoderLm (--random)', model, config, heldOut: ids(1024), train: ids(8192) };
  }
  const z = lmZooModel();
  const tok = z.tokenizer();
  const model = await readModelFile(z.path);
  return { name: basename(z.path), model, config: z.config, heldOut: tok.encode(z.heldOutText()), train: tok.encode(z.trainText()) };
}

/** An async iterable over `xs` (calibration sources are async). */
export async function* each<T>(xs: readonly T[]): AsyncGenerator<T> {
  yield* xs;
}

/** Calibration feeds: `count` windows of `len` training tokens, as Whittle tensors. */
export function calibration(lm: Pick<Lm, 'config' | 'train'>, count: number, len: number): Record<string, Tensor>[] {
  const out: Record<string, Tensor>[] = [];
  const step = Math.max(1, Math.floor((lm.train.length - len) / count));
  for (let i = 0; i < count; i++) {
    const ids = lm.train.slice(i * step, i * step + len);
    const f = decoderFeeds(lm.config, [ids]);
    const feeds: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(f)) feeds[k] = v.data instanceof BigInt64Array ? tensor(v.data, v.dims, 'int64', { backend: 'cpu' }) : tensor(v.data, v.dims, 'float32', { backend: 'cpu' });
    out.push(feeds);
  }
  return out;
}
