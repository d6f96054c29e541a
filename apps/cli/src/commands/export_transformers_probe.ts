/**
 * The onnxruntime-node check of an exported encoder variant: a seeded batch of token ids (with
 * padding, when the model takes an attention mask) run through the input model once, then
 * through each variant. Hidden states are mean-pooled over the unmasked tokens and compared by
 * cosine; a head's logits (one row per sequence, or per unmasked token) by top-1 agreement and
 * the largest change of a softmax probability; a question answering head's start and end scores
 * the same way, each sequence's softmax taken over its unmasked tokens as the pipeline takes it.
 */
import { top1Agreement } from '@whittle/eval';
import type { EncoderShape, OrtFeed } from '@whittle/eval/node';
import { Rng } from '@whittle/tensor';

/**
 * What the compared rows are: mean-pooled hidden states, a head's logits rows (classes), or span
 * scores — per output and sequence, one score per token, softmaxed over the unmasked tokens.
 */
export type ProbeRows = 'pooled' | 'logits' | 'spans';

/** The probe batch and the input model's pooled embeddings of it. */
export interface EncoderProbe {
  feeds: Record<string, OrtFeed>;
  mask: BigInt64Array;
  rows: ProbeRows;
  /** The input model's mean-pooled [batch, hidden] embeddings, its logits rows, or its [outputs, batch, sequence] span scores. */
  reference: Float64Array;
  dim: number;
}

/** How a variant's output compares with the input model's on the probe batch. */
export interface ProbeAgreement {
  /** Hidden states: smallest cosine of the mean-pooled embeddings. */
  cosine?: number;
  /** Heads: fraction of rows (sequences, or unmasked tokens; for span scores, sequences × start/end) whose top class (or top token) is the input model's. */
  top1?: number;
  /** Heads: largest absolute change of a softmax probability over the rows. */
  maxProbDelta?: number;
}

/** Token ids the probe draws from and wraps with. */
export interface ProbeTokens {
  /** Ids below this are drawn (the smaller of the tokenizer's and the model's vocabulary). */
  vocab: number;
  /** Special token ids, never drawn. */
  specials: ReadonlySet<number>;
  cls: number | undefined;
  sep: number | undefined;
  pad: number;
}

/** The rows a head's logits give: [B, N] as is, [B, T, N] one row per unmasked token. */
function logitRows(data: ArrayLike<number>, dims: readonly number[], mask: BigInt64Array): { rows: Float64Array; dim: number } {
  const N = dims[dims.length - 1]!;
  if (dims.length === 2) return { rows: Float64Array.from(data), dim: N };
  const [B, T] = dims as [number, number];
  const keep: number[] = [];
  for (let i = 0; i < B * T; i++) if (mask[i] !== 0n) keep.push(i);
  const rows = new Float64Array(keep.length * N);
  keep.forEach((i, r) => {
    for (let d = 0; d < N; d++) rows[r * N + d] = data[i * N + d]!;
  });
  return { rows, dim: N };
}

function softmaxRow(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Top-1 agreement and largest softmax probability change of `cand`'s logits rows to `ref`'s. */
export function compareLogits(ref: Float64Array, cand: Float64Array, dim: number): { top1: number; maxProbDelta: number } {
  const n = ref.length / dim;
  let delta = 0;
  for (let r = 0; r < n; r++) {
    const pa = softmaxRow(ref.subarray(r * dim, (r + 1) * dim));
    const pb = softmaxRow(cand.subarray(r * dim, (r + 1) * dim));
    for (let d = 0; d < dim; d++) delta = Math.max(delta, Math.abs(pa[d]! - pb[d]!));
  }
  return { top1: n ? top1Agreement(ref, cand, dim) : 1, maxProbDelta: delta };
}

/**
 * Span scores: `cand`'s [rows, T] start/end scores against `ref`'s, each row's softmax taken over
 * its sequence's unmasked tokens (`mask` [B, T]; row r is sequence r mod B).
 */
export function compareSpans(ref: Float64Array, cand: Float64Array, T: number, mask: BigInt64Array): { top1: number; maxProbDelta: number } {
  const B = mask.length / T;
  const n = ref.length / T;
  let agree = 0;
  let delta = 0;
  for (let r = 0; r < n; r++) {
    const b = r % B;
    const keep: number[] = [];
    for (let t = 0; t < T; t++) if (mask[b * T + t] !== 0n) keep.push(r * T + t);
    const c = compareLogits(Float64Array.from(keep, (i) => ref[i]!), Float64Array.from(keep, (i) => cand[i]!), keep.length);
    agree += c.top1;
    delta = Math.max(delta, c.maxProbDelta);
  }
  return { top1: n ? agree / n : 1, maxProbDelta: delta };
}

async function pooled(source: Uint8Array | string, probe: Pick<EncoderProbe, 'feeds' | 'mask' | 'rows'>, outputs: readonly string[], what: string): Promise<{ rows: Float64Array; dim: number }> {
  const { createOrtRunner, poolEmbeddings, EvaluationError } = await import('@whittle/eval/node');
  const runner = await createOrtRunner(source);
  try {
    const got = await runner.run(probe.feeds);
    const outs = outputs.map((name) => {
      const out = got[name];
      if (!out) throw new EvaluationError(`${what}: onnxruntime-node gave no '${name}' output`);
      const bad = out.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new EvaluationError(`${what}: '${name}' holds ${out.data[bad]} at [${unravel(bad, out.dims).join(', ')}] on the probe batch (onnxruntime-node); the variant is broken, not written`);
      return out;
    });
    const out = outs[0]!;
    if (probe.rows === 'pooled') return poolEmbeddings(out.data, out.dims, probe.mask);
    if (probe.rows === 'logits') return logitRows(out.data, out.dims, probe.mask);
    // start then end scores, [B, T] each
    const size = out.data.length;
    const rows = new Float64Array(outs.length * size);
    outs.forEach((o, k) => rows.set(o.data, k * size));
    return { rows, dim: out.dims[out.dims.length - 1]! };
  } finally {
    await runner.release();
  }
}

function unravel(i: number, dims: readonly number[]): number[] {
  const out: number[] = [];
  for (let d = dims.length - 1; d >= 0; d--) {
    out.unshift(i % dims[d]!);
    i = Math.floor(i / dims[d]!);
  }
  return out;
}

/**
 * The probe batch for an encoder with the sizes in `shape`: `batch` rows (3 unless the graph
 * fixes it) of `length` tokens (16 unless fixed), [CLS] … [SEP] when the tokenizer has them,
 * later rows shorter and padded when the model takes `attention_mask`, the second half of the
 * first row token type 1 when the model has two or more types; then the input model's embeddings.
 */
export async function encoderProbe(input: string, shape: EncoderShape, tokens: ProbeTokens, fixed: { batch?: number | undefined; length?: number | undefined }): Promise<EncoderProbe> {
  const B = fixed.batch ?? 3;
  const T = fixed.length ?? 16;
  const rng = new Rng(7);
  const ids = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  const types = new BigInt64Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = shape.attentionMask ? Math.max(2, T - b * Math.floor(T / 4)) : T;
    for (let t = 0; t < T; t++) {
      let id = tokens.pad;
      if (t < len) {
        if (t === 0 && tokens.cls !== undefined) id = tokens.cls;
        else if (t === len - 1 && tokens.sep !== undefined) id = tokens.sep;
        else for (let tries = 0; tries < 64 && (tries === 0 || tokens.specials.has(id)); tries++) id = Math.floor(rng.uniform(0, tokens.vocab));
        mask[b * T + t] = 1n;
        if (b === 0 && (shape.typeVocab ?? 0) >= 2 && t >= len / 2) types[b * T + t] = 1n;
      }
      ids[b * T + t] = BigInt(id);
    }
  }
  const dims = [B, T];
  const feeds: Record<string, OrtFeed> = { input_ids: { data: ids, dims, type: 'int64' } };
  if (shape.attentionMask) feeds.attention_mask = { data: mask, dims, type: 'int64' };
  if (shape.tokenTypes) feeds.token_type_ids = { data: types, dims, type: 'int64' };
  const rows: ProbeRows = shape.task === 'feature-extraction' ? 'pooled' : shape.task === 'question-answering' ? 'spans' : 'logits';
  const ref = await pooled(input, { feeds, mask, rows }, shape.outputs, 'the input model');
  return { feeds, mask, rows, reference: ref.rows, dim: ref.dim };
}

/** Smallest cosine, over the probe rows, of a variant's pooled embeddings to the input model's. */
export async function probeCosine(probe: EncoderProbe, variant: Uint8Array | string, output: string, what: string): Promise<number> {
  const { compareEmbeddings } = await import('@whittle/eval/node');
  const cand = await pooled(variant, probe, [output], what);
  return compareEmbeddings(probe.reference, cand.rows, probe.dim).minCosine;
}

/**
 * A variant's agreement with the input model on the probe batch (`outputs`: the encoder shape's):
 * cosine for hidden states, top-1 and probability change for a head's logits or span scores.
 */
export async function probeAgreement(probe: EncoderProbe, variant: Uint8Array | string, outputs: readonly string[], what: string): Promise<ProbeAgreement> {
  if (probe.rows === 'pooled') return { cosine: await probeCosine(probe, variant, outputs[0]!, what) };
  const cand = await pooled(variant, probe, outputs, what);
  return probe.rows === 'spans' ? compareSpans(probe.reference, cand.rows, probe.dim, probe.mask) : compareLogits(probe.reference, cand.rows, probe.dim);
}
