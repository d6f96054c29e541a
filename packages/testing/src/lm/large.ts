/**
 * The ≈26M-parameter decoder: {@link buildDecoderLm} with 8 blocks of width 512 over the zoo
 * tokenizer's vocabulary, seeded random weights (not trained). Not committed (≈100 MB): made on
 * first use into a cache folder and reused.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModel } from '@whittle/onnx';
import { type DecoderLmOptions, decoderLmConfig, decoderLmParameterCount } from './config.js';
import { buildDecoderLm } from './decoder.js';
import { LM_VOCAB } from './zoo.js';

/** Sizes and seed of the large decoder (26,006,528 parameters). */
export const LM25M_OPTIONS: Required<DecoderLmOptions> = { seed: 25, layers: 8, dModel: 512, heads: 8, vocab: LM_VOCAB, maxPositions: 512, ffnMultiplier: 4 };

/** The large decoder's settled sizes. */
export const LM25M_CONFIG = decoderLmConfig(LM25M_OPTIONS);

/** Where generated models are cached: `WHITTLE_LM_CACHE`, else `<os tmp>/whittle-lm`. */
export const LM_CACHE_DIR = process.env.WHITTLE_LM_CACHE ?? join(tmpdir(), 'whittle-lm');

/**
 * Path of the ≈26M-parameter decoder ONNX file, generated (seeded, same bytes every time) when the
 * cache does not hold it. Written to a temporary name and renamed, so concurrent callers never
 * read a half-written file.
 */
export function lm25mModelPath(dir = LM_CACHE_DIR): string {
  const o = LM25M_OPTIONS;
  const path = join(dir, `lm25m-l${o.layers}-d${o.dModel}-h${o.heads}-v${o.vocab}-p${o.maxPositions}-s${o.seed}.onnx`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, writeModel(buildDecoderLm(o).model));
  renameSync(tmp, path);
  return path;
}

/** Parameters of the large decoder. */
export const LM25M_PARAMETERS = decoderLmParameterCount(LM25M_CONFIG);
