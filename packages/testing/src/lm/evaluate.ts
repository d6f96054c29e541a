import { type OrtFeed, type OrtModelSource, PerplexityAccumulator, createOrtRunner } from '@whittle/eval/node';
import { ArgumentError } from '@whittle/tensor';
import type { DecoderLmConfig } from './config.js';
import { decoderFeeds } from './feeds.js';
import { tokenWindows } from './windows.js';

/**
 * Perplexity of a decoder on token ids in onnxruntime-node: non-overlapping windows of `context`
 * tokens (default: the model's positions; at most `maxWindows`), `batch` windows per call with an
 * empty past, every position but each window's first scored (by @whittle/eval's `PerplexityAccumulator`).
 */
export async function decoderPerplexityOrt(model: OrtModelSource, config: DecoderLmConfig, ids: readonly number[], opts: { context?: number; maxWindows?: number; batch?: number } = {}): Promise<{ perplexity: number; tokens: number; nextTokenAccuracy: number }> {
  const context = opts.context ?? config.maxPositions;
  const windows = tokenWindows(ids, context).slice(0, opts.maxWindows ?? Infinity);
  if (!windows.length) throw new ArgumentError(`decoderPerplexityOrt: ${ids.length} tokens make no window of ${context}`);
  const runner = await createOrtRunner(model);
  const meter = new PerplexityAccumulator();
  try {
    const batch = opts.batch ?? 16;
    for (let at = 0; at < windows.length; at += batch) {
      const rows = windows.slice(at, at + batch);
      const out = await runner.run(decoderFeeds(config, rows) as Record<string, OrtFeed>);
      meter.add(out['logits']!.data as Float32Array, out['logits']!.dims, rows.flat());
    }
  } finally {
    await runner.release();
  }
  const r = meter.result();
  return { perplexity: r.perplexity, tokens: r.tokens, nextTokenAccuracy: r.nextTokenAccuracy };
}
