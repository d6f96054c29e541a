import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX TfIdfVectorizer over integer tokens: counts of the pool's n-grams (min_gram_length …
 * max_gram_length, tokens up to max_skip_count apart; unigrams once) in each row of X, into the
 * columns ngram_indexes gives them, then TF (counts), IDF (weights where present) or TFIDF
 * (counts × weights). Token work on the host; the float32 result goes to the node's backend.
 */
registerOp('TfIdfVectorizer', async ([x], ctx) => {
  if (ctx.attr('pool_strings')) unsupported(ctx, 'string pools (pool_strings)');
  if (x!.rank !== 1 && x!.rank !== 2) unsupported(ctx, `an input of rank ${x!.rank}`);
  const pool = ctx.ints('pool_int64s') ?? unsupported(ctx, 'a missing pool_int64s');
  const counts = ctx.ints('ngram_counts') ?? unsupported(ctx, 'a missing ngram_counts');
  const indexes = ctx.ints('ngram_indexes') ?? unsupported(ctx, 'a missing ngram_indexes');
  const [minN, maxN] = [ctx.int('min_gram_length', 1), ctx.int('max_gram_length', 1)];
  const maxSkip = ctx.int('max_skip_count', 0);
  const mode = ctx.string('mode', 'TF');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF') unsupported(ctx, `mode '${mode}'`);
  const weights = ctx.floats('weights');
  // pool n-grams of length n start at ngram_counts[n - 1]; the k-th n-gram of the pool overall maps to column ngram_indexes[k]
  const column = new Map<string, number>();
  let k = 0;
  counts.forEach((start, level) => {
    const end = level + 1 < counts.length ? counts[level + 1]! : pool.length;
    const n = level + 1;
    for (let p = start; p + n <= end; p += n) column.set(`${n}:${pool.slice(p, p + n).join(',')}`, indexes[k++]!);
  });
  // (extra ngram_indexes only widen the output, as in onnxruntime)
  if (k > indexes.length) unsupported(ctx, `${k} pool n-grams for ${indexes.length} ngram_indexes`);
  const width = Math.max(-1, ...indexes) + 1;
  const tokens = await hostInts(x!);
  const rows = x!.rank === 1 ? 1 : x!.shape[0]!;
  const len = x!.rank === 1 ? x!.shape[0]! : x!.shape[1]!;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = tokens.slice(r * len, (r + 1) * len);
    const tf = new Float64Array(width);
    for (let n = Math.max(1, minN); n <= maxN; n++) {
      for (let skip = 0; skip <= (n === 1 ? 0 : maxSkip); skip++) {
        const span = (n - 1) * (skip + 1);
        for (let i = 0; i + span < len; i++) {
          const gram = Array.from({ length: n }, (_, j) => row[i + j * (skip + 1)]!);
          const col = column.get(`${n}:${gram.join(',')}`);
          if (col !== undefined) tf[col]!++;
        }
      }
    }
    for (let c = 0; c < width; c++) {
      const w = weights?.[indexes.indexOf(c)] ?? 1;
      const v = tf[c]!;
      out[r * width + c] = mode === 'TF' ? v : mode === 'IDF' ? (v > 0 ? w : 0) : v * w;
    }
  }
  return [T.tensor(out, x!.rank === 1 ? [width] : [rows, width], 'float32', { backend: ctx.backend })];
});
