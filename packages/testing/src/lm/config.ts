import { ArgumentError } from '@whittle/tensor';

/** Options of {@link buildDecoderLm}; every size has a small default. */
export interface DecoderLmOptions {
  /** Seed of the initial weights. */
  seed: number;
  /** Decoder blocks (default 2). */
  layers?: number;
  /** Hidden size (default 64). */
  dModel?: number;
  /** Attention heads (default 4; must divide dModel). */
  heads?: number;
  /** Vocabulary size (default 512). */
  vocab?: number;
  /** Rows of the learned position table: the longest context (default 128). */
  maxPositions?: number;
  /** MLP width as a multiple of dModel (default 4). */
  ffnMultiplier?: number;
}

/** A decoder's settled sizes. */
export interface DecoderLmConfig {
  layers: number;
  dModel: number;
  heads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
  ffn: number;
}

/** Settle the defaults of {@link DecoderLmOptions} and check the sizes fit together. */
export function decoderLmConfig(o: Omit<DecoderLmOptions, 'seed'>): DecoderLmConfig {
  const { layers = 2, dModel = 64, heads = 4, vocab = 512, maxPositions = 128, ffnMultiplier = 4 } = o;
  const positive = { layers, dModel, heads, vocab, maxPositions };
  for (const [k, v] of Object.entries(positive)) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`buildDecoderLm: ${k} must be a positive integer, got ${v}`);
  }
  if (dModel % heads !== 0) throw new ArgumentError(`buildDecoderLm: dModel ${dModel} is not a multiple of heads ${heads}; pick heads dividing dModel`);
  const ffn = Math.round(dModel * ffnMultiplier);
  if (!(ffn >= 1)) throw new ArgumentError(`buildDecoderLm: ffnMultiplier ${ffnMultiplier} gives an MLP width of ${ffn}`);
  return { layers, dModel, heads, headDim: dModel / heads, vocab, maxPositions, ffn };
}

/** Trainable scalars of a decoder with these sizes (the tied head adds none). */
export function decoderLmParameterCount(c: DecoderLmConfig): number {
  const d = c.dModel;
  const block = 2 * 2 * d + 4 * (d * d + d) + (d * c.ffn + c.ffn) + (c.ffn * d + d);
  return c.vocab * d + c.maxPositions * d + c.layers * block + 2 * d;
}
