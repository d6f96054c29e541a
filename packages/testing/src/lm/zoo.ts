/**
 * The zoo's language model: a {@link buildDecoderLm} decoder trained by Whittle (`fit`, `lm`
 * loss, cpu) on the TypeScript lib corpus with a byte-level BPE tokenizer trained on the same
 * train files. Committed under `packages/testing/zoo/` (`lm-<recipe>.onnx`, `lm-tokenizer.json`,
 * `lm-tokenizer_config.json`), reproduced byte for byte by
 * `pnpm --filter @whittle/testing zoo:train-lm`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '@whittle/tensor';
import { ZOO_DIR } from '../zoo.js';
import { BpeEncoder, END_OF_TEXT, trainBpe } from './bpe.js';
import type { DecoderLmConfig } from './config.js';
import { decoderLmConfig } from './config.js';
import { lmCorpus } from './corpus.js';
import type { LmTrainRecipe } from './train.js';

/** The zoo LM's recipe: tokenizer merges, model sizes, data and schedule; changing it changes the file name. */
export const LM_RECIPE: LmTrainRecipe & { merges: number } = {
  merges: 767, seed: 1, layers: 2, dModel: 64, heads: 4, context: 64, batchSize: 16, windows: 9600, epochs: 1, lr: 4e-3, warmup: 30,
};

/** Vocabulary of the zoo tokenizer: 256 bytes, the merges and `<|endoftext|>`. */
export const LM_VOCAB = 256 + LM_RECIPE.merges + 1;

/** File name of the recipe's model. */
export function lmZooName(r: LmTrainRecipe & { merges: number } = LM_RECIPE): string {
  return `lm-l${r.layers}-d${r.dModel}-h${r.heads}-c${r.context}-v${256 + r.merges + 1}-s${r.seed}-w${r.windows}-e${r.epochs}-b${r.batchSize}-lr${r.lr}.onnx`;
}

/** The committed tokenizer files. */
export const LM_TOKENIZER = { json: join(ZOO_DIR, 'lm-tokenizer.json'), config: join(ZOO_DIR, 'lm-tokenizer_config.json') };

/** Train the zoo tokenizer (deterministic) on the corpus's train files. */
export function trainLmTokenizer(): BpeEncoder {
  return new BpeEncoder(trainBpe(lmCorpus().train.map((f) => f.text), LM_RECIPE.merges));
}

/** The zoo language model: files, sizes and the corpus split it was trained and is judged on. */
export interface LmZooModel {
  /** The ONNX model (decoder layout of {@link buildDecoderLm}). */
  path: string;
  /** Hugging Face `tokenizer.json` and `tokenizer_config.json`. */
  tokenizerPath: string;
  tokenizerConfigPath: string;
  config: DecoderLmConfig;
  /** The held-out files of the corpus, each followed by `<|endoftext|>` as in training (tokenizers read it as the special token). */
  heldOutText(): string;
  /** The train files, joined the same way. */
  trainText(): string;
  /** The tokenizer as Whittle's encoder (ids identical to `@huggingface/tokenizers`). */
  tokenizer(): BpeEncoder;
}

const joined = (files: { text: string }[]): string => files.map((f) => `${f.text}${END_OF_TEXT}`).join('');

/** The committed zoo LM. Throws naming the command that makes it when its files are missing. */
export function lmZooModel(): LmZooModel {
  const path = join(ZOO_DIR, lmZooName());
  for (const p of [path, LM_TOKENIZER.json, LM_TOKENIZER.config]) {
    if (!existsSync(p)) throw new ArgumentError(`lmZooModel: ${p} is missing; make it with 'pnpm --filter @whittle/testing zoo:train-lm'`);
  }
  const r = LM_RECIPE;
  let tok: BpeEncoder | undefined;
  return {
    path,
    tokenizerPath: LM_TOKENIZER.json,
    tokenizerConfigPath: LM_TOKENIZER.config,
    config: decoderLmConfig({ layers: r.layers, dModel: r.dModel, heads: r.heads, vocab: LM_VOCAB, maxPositions: r.context }),
    heldOutText: () => joined(lmCorpus().heldOut),
    trainText: () => joined(lmCorpus().train),
    tokenizer: () => (tok ??= BpeEncoder.fromTokenizerJson(JSON.parse(readFileSync(LM_TOKENIZER.json, 'utf8')))),
  };
}
