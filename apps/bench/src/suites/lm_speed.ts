/**
 * Suite `lm_speed`: do quantized decoder LMs generate faster in onnxruntime-node (CPU)?
 * Tokens/s with the KV cache (prefill of a 32-token prompt; single-token decode calls) of fp32,
 * dynamic int8 (q8: MatMulInteger) and int4 MatMulNBits (q4: accuracy_level 0 and 4, blocks of
 * 32 and 128) for GPT-style decoders from ≈1M to ≈26M parameters (the testing builder; the
 * largest is `lm25mModelPath`), with 1 intra-op thread and onnxruntime's default. The variants are
 * made as `whittle export-transformers` makes them (LM head untied from the embedding) and timed
 * interleaved in one run (@whittle/eval's compareDecoderSpeed: medians over rounds), so the ratios
 * hold under load. Ends with the crossover: the smallest decoder whose best q4 decodes at least as
 * fast as fp32. `pnpm bench lm_speed [--quick] [--only <size name part, e.g. lm25m>] [--rounds N] [--tokens N]`.
 */
import * as ort from 'onnxruntime-node';
import { type Model, runRecipe } from '@whittle/graph';
import { readModelFile } from '@whittle/onnx/node';
import { writeModel } from '@whittle/onnx';
import { type DecoderSpeed, type OrtDecoder, compareDecoderSpeed, decoderIo, greedyGenerate, openOrtDecoder, transformersJsVariantPlan } from '@whittle/eval/node';
import { LM25M_OPTIONS, LM_VOCAB, buildDecoderLm, decoderLmConfig, decoderLmParameterCount, lm25mModelPath, type DecoderLmOptions } from '@whittle/testing/lm';
import '@whittle/quantize';

/** Decoder sizes, ≈1M → ≈26M parameters (vocabulary of the zoo tokenizer). */
const SIZES: (Omit<DecoderLmOptions, 'seed'> & { name: string })[] = [
  { name: 'l4-d128', layers: 4, dModel: 128, heads: 4, vocab: LM_VOCAB, maxPositions: 256 },
  { name: 'l4-d256', layers: 4, dModel: 256, heads: 4, vocab: LM_VOCAB, maxPositions: 256 },
  { name: 'l6-d384', layers: 6, dModel: 384, heads: 6, vocab: LM_VOCAB, maxPositions: 256 },
  { name: 'l8-d512 (lm25m)', layers: LM25M_OPTIONS.layers, dModel: LM25M_OPTIONS.dModel, heads: LM25M_OPTIONS.heads, vocab: LM25M_OPTIONS.vocab, maxPositions: LM25M_OPTIONS.maxPositions },
];

const VARIANTS: { name: string; make(m: Model): Promise<Model> }[] = [
  { name: 'fp32', make: async (m) => m },
  { name: 'q8 dynamic int8', make: (m) => plan(m, 'q8') },
  { name: 'q4 b32 acc0', make: (m) => plan(m, 'q4', { blockSize: 32 }) },
  { name: 'q4 b32 acc4', make: (m) => plan(m, 'q4', { blockSize: 32, accuracyLevel: 4 }) },
  { name: 'q4 b128 acc4', make: (m) => plan(m, 'q4', { blockSize: 128, accuracyLevel: 4 }) },
];

async function plan(m: Model, dtype: 'q8' | 'q4', o: { blockSize?: number; accuracyLevel?: number } = {}): Promise<Model> {
  return (await runRecipe(m, { passes: transformersJsVariantPlan(dtype, o).steps }, { frontEnd: true, seed: 0 })).model;
}

function prompt(n: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 131 + 7) % vocab);
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const opt = (k: string, d: number): number => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
  const rounds = opt('--rounds', quick ? 3 : 7);
  const tokens = opt('--tokens', 32);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1]! : undefined;
  const sizes = SIZES.filter((x, i) => (only ? x.name.includes(only) : !quick || i !== 2));
  console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''} CPU; tokens/s with the KV cache: prefill of a ${tokens}-token prompt, ${tokens - 1} single-token decode calls per round; ratio = variant tokens/s / fp32 tokens/s, all variants interleaved, medians over ${rounds} rounds`);
  const best: { size: string; params: number; threads: string; variant: string; decodeRatio: number }[] = [];
  for (const s of sizes) {
    const c = decoderLmConfig(s);
    const params = decoderLmParameterCount(c);
    const base = s.name.includes('lm25m') ? await readModelFile(lm25mModelPath()) : buildDecoderLm({ seed: 11, ...s }).model;
    const bytes: Uint8Array[] = [];
    for (const v of VARIANTS) bytes.push(writeModel(await v.make(base)));
    const p = prompt(tokens, c.vocab);
    // greedy agreement with fp32 over 16 tokens (random weights: a sanity check, not accuracy)
    const agree: number[] = [];
    for (const threads of [1, undefined] as const) {
      const sessions: OrtDecoder[] = [];
      try {
        for (const b of bytes) sessions.push(await openOrtDecoder(b, threads ? { intraOpNumThreads: threads } : {}));
        const ds = sessions.map((session, i) => ({ session, io: decoderIo(session, VARIANTS[i]!.name), name: VARIANTS[i]!.name }));
        if (!agree.length) {
          const ref = (await greedyGenerate(ds[0]!.session, ds[0]!.io, p, 16)).tokens;
          for (const d of ds) {
            const t = (await greedyGenerate(d.session, d.io, p, 16)).tokens;
            let k = 0;
            while (k < 16 && t[k] === ref[k]) k++;
            agree.push(k);
          }
        }
        const speed: DecoderSpeed[] = await compareDecoderSpeed(ds, p, { rounds, newTokens: tokens });
        const label = threads ? '1 thread' : 'default threads';
        console.log(`\n${s.name}: ${(params / 1e6).toFixed(2)}M parameters (${c.layers} layers, d ${c.dModel}, ${c.heads} heads, vocab ${c.vocab}), ${label}`);
        console.log('| variant | file | prefill tok/s | prefill ratio | decode tok/s | decode ms | decode ratio | greedy prefix = fp32 (of 16) |');
        console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
        speed.forEach((x, i) => console.log(`| ${VARIANTS[i]!.name} | ${(bytes[i]!.length / 1e6).toFixed(2)} MB | ${x.prefillTokensPerSecond.toFixed(0)} | ${x.prefillRatio.toFixed(2)}x | ${x.decodeTokensPerSecond.toFixed(0)} | ${x.decodeMs.toFixed(2)} | ${x.decodeRatio.toFixed(2)}x | ${agree[i]} |`));
        const q4 = speed.map((x, i) => ({ x, i })).filter(({ i }) => VARIANTS[i]!.name.startsWith('q4')).sort((a, b) => b.x.decodeRatio - a.x.decodeRatio)[0]!;
        best.push({ size: s.name, params, threads: label, variant: VARIANTS[q4.i]!.name, decodeRatio: q4.x.decodeRatio });
      } finally {
        for (const x of sessions) await x.release();
      }
    }
  }
  console.log('\nBest q4 decode speed vs fp32 per size:');
  console.log('| decoder | parameters | threads | best q4 | decode ratio |');
  console.log('|---|---:|---|---|---:|');
  for (const b of best) console.log(`| ${b.size} | ${(b.params / 1e6).toFixed(2)}M | ${b.threads} | ${b.variant} | ${b.decodeRatio.toFixed(2)}x |`);
  for (const threads of ['1 thread', 'default threads']) {
    const first = best.find((b) => b.threads === threads && b.decodeRatio >= 1);
    console.log(`crossover (${threads}): ${first ? `int4 MatMulNBits decodes at least as fast as fp32 from ${first.size} (${(first.params / 1e6).toFixed(2)}M parameters, ${first.variant}, ${first.decodeRatio.toFixed(2)}x)` : 'none of the sizes: int4 stays slower than fp32'}`);
  }
}
