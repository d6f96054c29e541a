/**
 * Suite `lm_quality`: the zoo's trained decoder LM and the dtypes `whittle export-transformers`
 * writes (fp16, q8 dynamic int8, q4 MatMulNBits, q4f16), evaluated by @whittle/eval's LM
 * evaluation in onnxruntime-node on the held-out files of its corpus: sliding-window perplexity
 * (HF recipe), greedy generation with the KV cache compared with fp32, tokens/s with the cache.
 * The held-out text is tokenized by the zoo tokenizer (ids identical to the tokenizer.json).
 * `pnpm bench lm_quality [--window N] [--stride N] [--prompts N] [--tokens N]`.
 */
import * as ort from 'onnxruntime-node';
import { runRecipe } from '@whittle/graph';
import { readModelFile } from '@whittle/onnx/node';
import { writeModel } from '@whittle/onnx';
import { type OrtDecoder, TRANSFORMERS_JS_VARIANTS, evaluateDecoders, lmSettingsLine, openOrtDecoder, transformersJsVariantPlan } from '@whittle/eval/node';
import { lmZooModel } from '@whittle/testing/lm';
import '@whittle/quantize';

export async function run(args: string[]): Promise<void> {
  const opt = (k: string, d: number): number => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
  const zoo = lmZooModel();
  const window = opt('--window', zoo.config.maxPositions);
  const tokens = zoo.tokenizer().encode(zoo.heldOutText());
  const base = await readModelFile(zoo.path);
  const names: string[] = [];
  const sessions: OrtDecoder[] = [];
  const sizes: number[] = [];
  try {
    for (const dtype of TRANSFORMERS_JS_VARIANTS) {
      const plan = transformersJsVariantPlan(dtype);
      const m = plan.steps.length ? (await runRecipe(base, { passes: plan.steps }, { frontEnd: true, seed: 0 })).model : base;
      const bytes = writeModel(m);
      names.push(dtype);
      sizes.push(bytes.length);
      sessions.push(await openOrtDecoder(bytes, { intraOpNumThreads: 1 }));
    }
    const r = await evaluateDecoders(names.map((name, i) => ({ name, session: sessions[i]! })), tokens, {
      window, stride: opt('--stride', window >> 1), prompts: opt('--prompts', 16), promptLength: 16, newTokens: opt('--tokens', 16), speedRounds: 5, speedTokens: 32,
    });
    console.log(`zoo LM ${zoo.path.split('/').pop()} (${zoo.config.layers} layers, d ${zoo.config.dModel}, vocab ${zoo.config.vocab}, context ${zoo.config.maxPositions}); onnxruntime-node ${ort.env.versions?.common ?? ''}, 1 thread`);
    console.log(`${lmSettingsLine(r.settings)}.`);
    console.log('| dtype | file | perplexity | next-token acc. | greedy identical | agreeing prefix | prefill tok/s | decode tok/s | decode vs fp32 |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    r.models.forEach((m, i) => {
      const s = m.speed!;
      console.log(`| ${m.name} | ${(sizes[i]! / 1e6).toFixed(3)} MB | ${m.perplexity.perplexity.toFixed(3)} | ${(m.perplexity.nextTokenAccuracy * 100).toFixed(2)} % | ${(m.agreement.identicalFraction * 100).toFixed(0)} % | ${m.agreement.meanAgreeingPrefix.toFixed(2)} / ${m.agreement.newTokens} | ${s.prefillTokensPerSecond.toFixed(0)} | ${s.decodeTokensPerSecond.toFixed(0)} | ${s.decodeRatio.toFixed(2)}x |`);
    });
  } finally {
    for (const s of sessions) await s.release();
  }
}
