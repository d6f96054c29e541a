/**
 * A decoder in onnxruntime-genai's model-builder layout (GroupQueryAttention with rotary caches,
 * SkipSimplifiedLayerNormalization, fp32 MatMul weights) through the command line: 4-bit
 * MatMulNBits weights, GPTQ and SparseGPT / Wanda calibrated on token ids (the CLI feeds the
 * decoder a first step: attention mask, empty past). Every output loads in onnxruntime-node and
 * its logits — for a prompt and for the next step with the cache — stay close to the original's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '@whittle/onnx';
import { tensor, type Tensor } from '@whittle/tensor';
import { genaiBuilderDecoder, genaiBuilderFeeds } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-genai-decoder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VOCAB = 64;
const { model, config } = genaiBuilderDecoder({ seed: 7, vocab: VOCAB, layers: 2, hidden: 64, heads: 4, kvHeads: 2 });
const original = join(dir, 'model.onnx');
writeFileSync(original, writeModel(model));
const row = (i: number, n: number): number[] => Array.from({ length: n }, (_, t) => (i * 7 + t * 5 + ((i * t) % 3)) % VOCAB);
const ids = join(dir, 'ids.jsonl');
writeFileSync(ids, Array.from({ length: 32 }, (_, i) => JSON.stringify(row(i, 16))).join('\n') + '\n');
// held-out prompts (other rows of the same generator) and one next token each
const held = Array.from({ length: 8 }, (_, i) => row(100 + 3 * i, 12));

/** Logits of every prompt position, then of one cached step, per held-out prompt. */
async function logits(path: string): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(path);
  const run = async (feeds: Record<string, Tensor>) => {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.dtype === 'int64' ? 'int64' : 'float32', await v.data(), [...v.shape]);
    return s.run(f);
  };
  try {
    const out: Float32Array[] = [];
    for (const p of held) {
      const first = await run(genaiBuilderFeeds(config, [p]));
      out.push(first.logits!.data as Float32Array);
      const past = Array.from({ length: config.layers }, (_, i) => ['key', 'value'].map((kind) => {
        const t = first[`present.${i}.${kind}`]!;
        return tensor(t.data as Float32Array, [...t.dims]);
      }) as [Tensor, Tensor]);
      out.push((await run(genaiBuilderFeeds(config, [[p[0]!]], past))).logits!.data as Float32Array);
    }
    return out;
  } finally {
    await s.release();
  }
}

/** Mean cosine of the logits rows and the share of positions whose top-1 token agrees. */
function agreement(a: Float32Array[], b: Float32Array[]): { cosine: number; top1: number } {
  let cos = 0, top = 0, n = 0;
  for (let k = 0; k < a.length; k++) {
    for (let r = 0; r < a[k]!.length / VOCAB; r++) {
      const x = a[k]!.subarray(r * VOCAB, (r + 1) * VOCAB);
      const y = b[k]!.subarray(r * VOCAB, (r + 1) * VOCAB);
      let d = 0, xx = 0, yy = 0, ax = 0, ay = 0;
      for (let i = 0; i < VOCAB; i++) {
        [d, xx, yy] = [d + x[i]! * y[i]!, xx + x[i]! ** 2, yy + y[i]! ** 2];
        if (x[i]! > x[ax]!) ax = i;
        if (y[i]! > y[ay]!) ay = i;
      }
      cos += d / Math.sqrt(xx * yy);
      top += ax === ay ? 1 : 0;
      n++;
    }
  }
  return { cosine: cos / n, top1: top / n };
}

describe('a decoder in the onnxruntime-genai model-builder layout', () => {
  const variants: [string, string[]][] = [
    ['rtn', ['quantize', 'weights', original, '--bits', '4', '--format', 'qdq']],
    ['matmulnbits', ['quantize', 'weights', original, '--bits', '4', '--format', 'matmulnbits']],
    ['gptq', ['quantize', 'gptq', original, '--bits', '4', '--data', ids]],
    ['awq', ['quantize', 'awq', original, '--bits', '4', '--data', ids]],
    ['sparsegpt', ['prune', 'sparsegpt', original, '--sparsity', '0.5', '--data', ids]],
    ['wanda', ['prune', 'unstructured', original, '--method', 'wanda', '--sparsity', '0.5', '--data', ids]],
    ['magnitude', ['prune', 'unstructured', original, '--sparsity', '0.5']],
  ];
  it('4-bit weights, GPTQ, SparseGPT and Wanda on token ids: each output runs in onnxruntime-node close to the original', async () => {
    const base = await logits(original);
    const got: Record<string, { cosine: number; top1: number }> = {};
    for (const [name, args] of variants) {
      const out = join(dir, `${name}.onnx`);
      const r = await whittleInProcess(...args, '-o', out);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      got[name] = agreement(base, await logits(out));
    }
    const nbits = readModel(new Uint8Array(readFileSync(join(dir, 'matmulnbits.onnx')))).graph.nodes.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits).toHaveLength(15); // every projection, lm_head included
    // measured (seed 7): rtn / matmulnbits cosine 0.988, top-1 0.84; gptq 0.996, 0.87; awq 0.996, 0.87; sparsegpt 0.962, 0.72;
    // wanda 0.958, 0.70; magnitude 0.959, 0.69 — the random model's logits are close, so top-1 flips easily
    expect(Math.abs(got['matmulnbits']!.cosine - got['rtn']!.cosine), 'MatMulNBits holds the same 4-bit grid as QDQ').toBeLessThan(1e-3);
    for (const name of ['rtn', 'matmulnbits', 'gptq', 'awq']) {
      expect(got[name]!.cosine, name).toBeGreaterThan(0.98);
      expect(got[name]!.top1, name).toBeGreaterThan(0.75);
    }
    for (const name of ['sparsegpt', 'wanda']) {
      expect(got[name]!.cosine, name).toBeGreaterThan(0.95);
      expect(got[name]!.top1, name).toBeGreaterThan(0.6);
    }
    // the calibrated techniques beat their calibration-free counterparts
    expect(got['gptq']!.cosine).toBeGreaterThan(got['rtn']!.cosine);
    expect(got['awq']!.cosine).toBeGreaterThanOrEqual(got['rtn']!.cosine);
    expect(got['sparsegpt']!.cosine).toBeGreaterThan(got['magnitude']!.cosine);
  }, 120_000);

  it('AWQ folds its scales into the RMS norms; fine-tune trains through GroupQueryAttention and the norms, and lowers the loss in onnxruntime', async () => {
    const awq = await whittleInProcess('quantize', 'awq', original, '--bits', '4', '--data', ids, '-o', join(dir, 'awq2.onnx'));
    // per layer: q/k/v after input_layernorm and gate/up after post_attention_layernorm, and lm_head after the final norm
    // (o_proj and down_proj read attention / MLP outputs, so they get a Mul)
    expect(awq.code, awq.stderr).toBe(0);
    expect(awq.stdout + awq.stderr).toMatch(/9 input groups, scales folded into [45] normalization\(s\) and 4 Mul node\(s\)/);
    const out = join(dir, 'fine-tuned.onnx');
    const r = await whittleInProcess('fine-tune', original, '--data', ids, '--epochs', '3', '--lr', '0.01', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    // every MatMul weight, the embedding and the 5 RMS norm scales (64 each); the rotary caches stay fixed
    expect(r.stdout + r.stderr).toMatch(/fine-tuned 82240 weights/);
    const rows = Array.from({ length: 32 }, (_, i) => row(i, 16));
    const nll = async (path: string): Promise<number> => {
      const s = await ort.InferenceSession.create(path);
      try {
        let sum = 0;
        for (const r of rows) {
          const f: Record<string, ort.Tensor> = {};
          for (const [k, v] of Object.entries(genaiBuilderFeeds(config, [r]))) f[k] = new ort.Tensor(v.dtype === 'int64' ? 'int64' : 'float32', await v.data(), [...v.shape]);
          const l = (await s.run(f)).logits!.data as Float32Array;
          for (let t = 0; t + 1 < r.length; t++) {
            const z = l.subarray(t * VOCAB, (t + 1) * VOCAB);
            const m = Math.max(...z);
            sum += m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)) - z[r[t + 1]!]!;
          }
        }
        return sum / (rows.length * 15);
      } finally {
        await s.release();
      }
    };
    const [before, after] = [await nll(original), await nll(out)];
    expect(before).toBeGreaterThan(4);
    expect(after).toBeLessThan(before - 0.3);
  }, 120_000);
});
