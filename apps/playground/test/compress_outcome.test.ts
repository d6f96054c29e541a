/**
 * The page's compress job holds runs to the command line's rule: a recipe that grows the weights
 * of a model already quantized elsewhere (Moonshine's int8 encoder) is a NoCompressionError, not
 * a "Done" variant larger than the file opened.
 */
import { NoCompressionError } from '@whittle/graph';
import { PREQUANTIZED_CORPUS, corpusBytes } from '@whittle/testing/corpus';
import { describe, expect, test } from 'vitest';
import { compress } from '../src/worker/compress.js';

describe('compress job outcomes', () => {
  test('2:4 pruning of an int8 encoder (its weights dequantized, so the file would grow) is refused', async () => {
    const bytes = corpusBytes(PREQUANTIZED_CORPUS.find((m) => m.id === 'moonshine-encoder')!);
    const job = { kind: 'compress' as const, model: bytes, recipe: { passes: [{ pass: 'prune-nm', options: { n: 2, m: 4 } }] }, seed: 0, backend: 'cpu' as const };
    const run = compress(job, new AbortController().signal, () => undefined);
    await expect(run).rejects.toThrow(NoCompressionError);
    await expect(run).rejects.toThrow(/nothing compressed: .*(grew|already quantized)/);
  }, 120_000);
});
