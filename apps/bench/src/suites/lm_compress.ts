/**
 * Suite `lm_compress`: held-out perplexity (sliding windows in onnxruntime-node) of a GPT-style
 * decoder LM and of its compressed variants, all measured side by side in one run: RTN int4
 * (block 32 and per channel), GPTQ (sequential) int4, AWQ / HQQ int4 block 32, fp16, q4 and q4f16, and 50 %
 * unstructured / 2:4 pruning by magnitude, Wanda (one-shot and sequential) and SparseGPT, all on
 * the same weights (the blocks' MatMuls; the tied embedding / LM head is a Transpose of the
 * embedding, not a prunable initializer). Prints the table and checks the acceptance targets (a
 * missed target is printed as MISSED, never hidden).
 *
 *   pnpm bench lm_compress [--calib 32] [--calib-len 128] [--window 128] [--eval-tokens N] [--only a,b | --prune] [--interpreter]
 *     (the passes' calibration forwards in onnxruntime-node as in the CLI, or in Whittle's interpreter)
 *   pnpm bench lm_compress gptq-speed|sparsegpt-speed [--interpreter] [--calib 64] [--calib-len 256]
 *     (GPTQ / SparseGPT 50 % of a ~25M-parameter decoder on 64 × 256 tokens; forwards in
 *     onnxruntime-node as in the CLI, or in Whittle's interpreter)
 *   pnpm bench lm_compress wanda-outliers [--scale 20]   (diagnostic, no target: the same LM with
 *     outlier input channels made by a function-preserving rescaling, magnitude vs Wanda)
 */
import { type Model, cloneModel, runPass } from '@whittle/graph';
import { type OrtModuleLike, ortActivationRuntime, writeModel } from '@whittle/onnx';
import * as ort from 'onnxruntime-node';
import { decoderIo, interpreterDecoderSession, slidingPerplexity } from '@whittle/eval';
import { openOrtDecoder } from '@whittle/eval/node';
import { readModelFile } from '@whittle/onnx/node';
import { LM25M_CONFIG, decoderLmParameterCount, lm25mModelPath } from '@whittle/testing/lm';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import '@whittle/quantize';
import { calibration, each, flag, loadLm } from '../lm_zoo_data.js';
import { collectInputNorms, findPrunableWeights } from '@whittle/prune';

async function perplexity(model: Model, tokens: number[], window: number): Promise<{ ppl: number; nan: boolean; tokens: number }> {
  const s = await openOrtDecoder(writeModel(model), { intraOpNumThreads: 2 });
  try {
    const r = await slidingPerplexity(s, decoderIo(s, 'lm_compress'), tokens, window, window / 2);
    return { ppl: r.perplexity, nan: !Number.isFinite(r.perplexity), tokens: r.tokens };
  } finally {
    await s.release();
  }
}

/**
 * Perplexity in Whittle's interpreter, which keeps every float16 op's output in float16 (each op
 * computed in float32, then rounded; onnxruntime's CPU
 * provider computes most of them in float32, so its float16 perplexity cannot show an overflow).
 */
async function perplexityInFloat16(model: Model, tokens: number[], window: number): Promise<number> {
  const s = interpreterDecoderSession(model);
  return (await slidingPerplexity(s, decoderIo(s, 'lm_compress (interpreter)'), tokens, window, window / 2)).perplexity;
}

type Variant = { name: string; base?: string; make: (m: Model, calib: () => Record<string, Tensor>[], get: (n: string) => Model) => Promise<Model> };

/** Calibration forwards of the passes: onnxruntime-node as the CLI injects it, or (--interpreter) Whittle's interpreter. */
let passRuntime: { activationRuntime: ReturnType<typeof ortActivationRuntime> } | { calibrationRuntime: 'interpreter' } = { calibrationRuntime: 'interpreter' };
const q = (pass: string, options: Record<string, unknown>) => async (m: Model, calib: () => Record<string, Tensor>[]) => (await runPass(pass, m, options, { calibration: each(calib()), seed: 1, ...passRuntime })).model;
const MM = ['MatMul', 'Gemm'];
const PRUNING = /^(magnitude|wanda|sparsegpt)-/;

const VARIANTS: Variant[] = [
  { name: 'fp32', make: async (m) => m },
  { name: 'rtn-int4-b32', base: 'fp32', make: q('quantize-weights', { bits: 4, blockSize: 32, format: 'matmulnbits', ops: MM }) },
  { name: 'q4-tied-shared', base: 'fp32', make: q('quantize-weights', { bits: 4, blockSize: 32, format: 'matmulnbits', tiedHead: 'shared' }) },
  { name: 'rtn-int4-pc', base: 'fp32', make: q('quantize-weights', { bits: 4, granularity: 'per-channel', ops: MM }) },
  { name: 'gptq-int4-pc', base: 'fp32', make: q('gptq', { bits: 4, granularity: 'per-channel' }) },
  { name: 'gptq-int4-b32', base: 'fp32', make: q('gptq', { bits: 4, blockSize: 32, format: 'matmulnbits' }) },
  { name: 'awq-int4-b32', base: 'fp32', make: q('quantize-awq', { bits: 4, blockSize: 32, symmetric: true }) },
  { name: 'hqq-int4-b32', base: 'fp32', make: q('quantize-hqq', { bits: 4, blockSize: 32 }) },
  { name: 'fp16', base: 'fp32', make: q('convert-float16', {}) },
  { name: 'q4f16', base: 'rtn-int4-b32', make: async (_m, calib, get) => (await runPass('convert-float16', get('rtn-int4-b32'), {}, { calibration: each(calib()) })).model },
  { name: 'magnitude-50', base: 'fp32', make: q('prune-unstructured', { sparsity: 0.5, method: 'magnitude', include: undefined }) },
  { name: 'wanda-50', base: 'fp32', make: q('prune-unstructured', { sparsity: 0.5, method: 'wanda' }) },
  { name: 'magnitude-50-row', base: 'fp32', make: q('prune-unstructured', { sparsity: 0.5, method: 'magnitude', scope: 'row' }) },
  { name: 'wanda-50-layer', base: 'fp32', make: q('prune-unstructured', { sparsity: 0.5, method: 'wanda', scope: 'layer' }) },
  { name: 'wanda-50-seq', base: 'fp32', make: q('prune-unstructured', { sparsity: 0.5, method: 'wanda', sequential: true }) },
  { name: 'sparsegpt-50', base: 'fp32', make: q('prune-sparsegpt', { sparsity: 0.5 }) },
  { name: 'magnitude-2:4', base: 'fp32', make: q('prune-nm', { n: 2, m: 4, method: 'magnitude' }) },
  { name: 'wanda-2:4', base: 'fp32', make: q('prune-nm', { n: 2, m: 4, method: 'wanda' }) },
  { name: 'wanda-2:4-seq', base: 'fp32', make: q('prune-nm', { n: 2, m: 4, method: 'wanda', sequential: true }) },
  { name: 'sparsegpt-2:4', base: 'fp32', make: q('prune-sparsegpt', { n: 2, m: 4 }) },
];

async function quality(args: string[]): Promise<void> {
  const lm = await loadLm(args.includes('--random'));
  const window = Math.min(flag(args, 'window', 128), lm.config.maxPositions);
  const evalTokens = flag(args, 'eval-tokens', lm.heldOut.length);
  const tokens = lm.heldOut.slice(0, evalTokens);
  const calibCount = flag(args, 'calib', 32);
  const calibLen = Math.min(flag(args, 'calib-len', 128), lm.config.maxPositions);
  const onlyAt = args.indexOf('--only');
  // --prune: the pruning rows only (every variant whose pass zeroes weights)
  const only = onlyAt >= 0 ? new Set(args[onlyAt + 1]!.split(',')) : args.includes('--prune') ? new Set(VARIANTS.filter((v) => PRUNING.test(v.name)).map((v) => v.name)) : undefined;
  const calib = () => calibration(lm, calibCount, calibLen);
  const interpreter = args.includes('--interpreter');
  passRuntime = interpreter ? { calibrationRuntime: 'interpreter' } : { activationRuntime: ortActivationRuntime(ort as unknown as OrtModuleLike) };
  console.log(`calibration forwards in ${interpreter ? "Whittle's interpreter (--interpreter)" : 'onnxruntime-node (as the CLI)'}`);
  console.log(`lm_compress: ${lm.name}, ${decoderLmParameterCount(lm.config)} parameters (${lm.config.layers} layers, d ${lm.config.dModel}, vocab ${lm.config.vocab}); held-out ${tokens.length} tokens, window ${window} stride ${window / 2}; calibration ${calibCount} x ${calibLen} training tokens`);
  if (!only || [...only].some((n) => n.startsWith('wanda'))) await printNormSpread(lm.model, calib());
  const models = new Map<string, Model>();
  const rows: { name: string; ppl: number; nan: boolean; ms: number }[] = [];
  for (const v of VARIANTS) {
    if (only && !only.has(v.name) && v.name !== 'fp32' && !(v.name === 'rtn-int4-b32' && only.has('q4f16'))) continue;
    const t0 = performance.now();
    const m = await v.make(lm.model, calib, (n) => models.get(n)!);
    const ms = performance.now() - t0;
    models.set(v.name, m);
    const r = await perplexity(m, tokens, window);
    rows.push({ name: v.name, ppl: r.ppl, nan: r.nan, ms });
    console.log(`${v.name.padEnd(16)} ppl ${r.ppl.toFixed(4).padStart(10)}  ${r.nan ? 'NaN!' : ''}  (made in ${(ms / 1000).toFixed(1)} s)`);
  }
  const p = (n: string): number | undefined => rows.find((r) => r.name === n)?.ppl;
  const base = p('fp32')!;
  console.log('\nvariant          perplexity   vs fp32');
  for (const r of rows) console.log(`${r.name.padEnd(16)} ${r.ppl.toFixed(4).padStart(10)}  ${(((r.ppl / base) - 1) * 100).toFixed(2).padStart(7)} %${r.nan ? '  NaN' : ''}`);
  const checks: [string, boolean | undefined, string][] = [];
  const inc = (n: string, ref = base): number | undefined => (p(n) === undefined ? undefined : p(n)! - ref);
  const check = (label: string, ok: boolean | undefined, detail: string): void => void checks.push([label, ok, detail]);
  if (p('rtn-int4-b32')) check('int4 block-32 RTN <= +3 %', p('rtn-int4-b32')! / base - 1 <= 0.03, `${((p('rtn-int4-b32')! / base - 1) * 100).toFixed(2)} %`);
  if (p('gptq-int4-pc') && p('rtn-int4-pc')) check('GPTQ removes >= 50 % of RTN per-channel increase', inc('gptq-int4-pc')! <= 0.5 * inc('rtn-int4-pc')!, `RTN +${inc('rtn-int4-pc')!.toFixed(4)}, GPTQ +${inc('gptq-int4-pc')!.toFixed(4)} (${((1 - inc('gptq-int4-pc')! / inc('rtn-int4-pc')!) * 100).toFixed(1)} % removed)`);
  if (p('fp16')) check('fp16 within 0.5 % of fp32', Math.abs(p('fp16')! / base - 1) <= 0.005, `${((p('fp16')! / base - 1) * 100).toFixed(3)} %`);
  if (p('q4f16') && p('rtn-int4-b32')) check('q4f16 within 0.5 % of q4', Math.abs(p('q4f16')! / p('rtn-int4-b32')! - 1) <= 0.005, `${((p('q4f16')! / p('rtn-int4-b32')! - 1) * 100).toFixed(3)} %`);
  for (const s of ['50', '2:4']) {
    const mag = inc(`magnitude-${s}`);
    for (const meth of ['wanda', 'sparsegpt']) if (mag !== undefined && inc(`${meth}-${s}`) !== undefined) check(`${meth} ${s} <= half of magnitude's increase`, inc(`${meth}-${s}`)! <= 0.5 * mag, `magnitude +${mag.toFixed(4)}, ${meth} +${inc(`${meth}-${s}`)!.toFixed(4)}`);
  }
  // the float16 rows again with float16 values between ops (the interpreter), against their float32 bases computed the same way
  for (const [half, full] of [['fp16', 'fp32'], ['q4f16', 'rtn-int4-b32']] as const) {
    if (!models.has(half) || !models.has(full)) continue;
    const t0 = performance.now();
    const [h, f] = [await perplexityInFloat16(models.get(half)!, tokens, window), await perplexityInFloat16(models.get(full)!, tokens, window)];
    console.log(`${half} with float16 between ops (interpreter): ppl ${h.toFixed(4)} vs ${full} ${f.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    check(`${half} within 0.5 % of ${full}, float16 between ops`, Number.isFinite(h) && Math.abs(h / f - 1) <= 0.005, `${((h / f - 1) * 100).toFixed(3)} %`);
  }
  check('no NaN', rows.every((r) => !r.nan), rows.filter((r) => r.nan).map((r) => r.name).join(', ') || 'none');
  console.log('\ntarget                                              result   measured');
  for (const [label, ok, detail] of checks) console.log(`${label.padEnd(50)} ${ok ? 'met   ' : 'MISSED'}   ${detail}`);
}

/**
 * Wanda differs from magnitude only as much as the input channels' norms ‖x_c‖₂ differ: print
 * their spread (max / median) per prunable input. LLMs of billions of parameters have outlier
 * features (spread 10–100x) that Wanda exploits; a small LM without them leaves Wanda ≈ magnitude.
 */
async function printNormSpread(model: Model, feeds: Record<string, Tensor>[]): Promise<void> {
  const weights = findPrunableWeights(model);
  const norms = await collectInputNorms(model, weights, each(feeds));
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const w of weights) {
    if (seen.has(w.input)) continue;
    seen.add(w.input);
    const n = Array.from(norms.get(w.weight)!.sq, Math.sqrt).sort((a, b) => a - b);
    parts.push(`${w.node.replace(/\/MatMul$/, '')} ${(n[n.length - 1]! / n[n.length >> 1]!).toFixed(1)}x`);
  }
  console.log(`input-channel norm spread (max / median ‖x_c‖₂, what Wanda adds to magnitude): ${parts.join(', ')}`);
}

/** The passes timed by `gptq-speed` / `sparsegpt-speed` and their options. */
const SPEED_PASSES = {
  gptq: { pass: 'gptq', options: { bits: 4, blockSize: 128, format: 'matmulnbits', sequential: true } },
  sparsegpt: { pass: 'prune-sparsegpt', options: { sparsity: 0.5, sequential: true } },
} as const;

/** GPTQ or SparseGPT (sequential) of the ≈26M-parameter decoder of @whittle/testing (lm25mModelPath: 8 × 512, seeded weights) on 64 × 256 tokens. */
async function passSpeed(which: keyof typeof SPEED_PASSES, args: string[]): Promise<void> {
  const { pass, options } = SPEED_PASSES[which];
  const seqs = flag(args, 'calib', 64);
  const len = flag(args, 'calib-len', 256);
  const config = LM25M_CONFIG;
  const model = await readModelFile(lm25mModelPath());
  const rng = new Rng(3);
  const train = Array.from({ length: seqs * len + 1 }, () => Math.floor(rng.uniform(0, config.vocab)));
  const feeds = calibration({ config, train }, seqs, len);
  // calibration forwards as the CLI runs them (onnxruntime-node), or --interpreter: Whittle's interpreter
  const interpreter = args.includes('--interpreter');
  const runtime = interpreter ? { calibrationRuntime: 'interpreter' as const } : { activationRuntime: ortActivationRuntime(ort as unknown as OrtModuleLike) };
  console.log(`${which}-speed: ${decoderLmParameterCount(config)} parameters, ${seqs} x ${len} calibration tokens, forwards in ${interpreter ? "Whittle's interpreter" : 'onnxruntime-node'}`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let last = 0;
  const r = await runPass(pass, model, options, {
    calibration: each(feeds),
    ...runtime,
    onProgress: (f, msg) => {
      const now = performance.now();
      if (now - last > 5000) console.log(`  ${((now - t0) / 1000).toFixed(1)} s: ${(f * 100).toFixed(0)} % ${msg}`);
      last = now;
    },
  });
  // cpu time of the process (all threads) as well: on a shared machine the wall time says little
  const cpu = process.cpuUsage(cpu0);
  console.log(`${pass} (sequential): ${((performance.now() - t0) / 1000).toFixed(1)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s); ${r.report.summary}`);
}

/**
 * Diagnostic for Wanda's premise (no acceptance target): LLMs have a few input channels with
 * activations 10–100x the rest, which magnitude pruning misjudges. Make such channels in the zoo LM
 * without changing its function — 4 random channels of each LayerNorm scaled by `scale` (weight
 * and bias), the rows of the MatMul weights reading them divided by it — then prune both models.
 * Wanda's scores |w|·‖x‖₂ are invariant to the rescaling; magnitude's are not.
 */
async function wandaOutliers(args: string[]): Promise<void> {
  const lm = await loadLm(false);
  const scale = flag(args, 'scale', 20);
  const window = Math.min(flag(args, 'window', 64), lm.config.maxPositions);
  const calib = () => calibration(lm, flag(args, 'calib', 32), Math.min(flag(args, 'calib-len', 64), lm.config.maxPositions));
  const g = lm.model.graph;
  const re = cloneModel(lm.model);
  const rng = new Rng(3);
  const scaled = async (name: string, f: (v: Float32Array) => void): Promise<void> => {
    const t = re.graph.initializers.get(name)!;
    const v = Float32Array.from((await t.data()) as Float32Array);
    f(v);
    re.graph.initializers.set(name, tensor(v, [...t.shape], 'float32', { backend: 'cpu' }));
  };
  for (const ln of g.nodes.filter((n) => n.opType === 'LayerNormalization')) {
    const readers = g.nodes.filter((n) => n.opType === 'MatMul' && n.inputs[0] === ln.outputs[0] && g.initializers.has(n.inputs[1]!));
    if (!readers.length) continue;
    const d = g.initializers.get(ln.inputs[1]!)!.shape[0]!;
    const chans = new Set<number>();
    while (chans.size < Math.min(4, d)) chans.add(Math.floor(rng.uniform(0, d)));
    for (const p of [ln.inputs[1]!, ln.inputs[2]!]) await scaled(p, (v) => chans.forEach((c) => (v[c]! *= scale)));
    for (const r of readers) {
      const n = g.initializers.get(r.inputs[1]!)!.shape[1]!;
      await scaled(r.inputs[1]!, (v) => chans.forEach((c) => { for (let j = 0; j < n; j++) v[c * n + j]! /= scale; }));
    }
  }
  const tokens = lm.heldOut.slice(0, flag(args, 'eval-tokens', lm.heldOut.length));
  const base = await perplexity(lm.model, tokens, window);
  const rebase = await perplexity(re, tokens, window);
  console.log(`wanda-outliers: ${lm.name}; 4 channels of each LayerNorm x ${scale} (readers' rows / ${scale}); fp32 ppl ${base.ppl.toFixed(4)}, rescaled ${rebase.ppl.toFixed(4)}`);
  console.log('variant          original   rescaled (increase over fp32)');
  for (const [name, pass, o] of [['magnitude-50', 'prune-unstructured', { sparsity: 0.5 }], ['wanda-50', 'prune-unstructured', { sparsity: 0.5, method: 'wanda' }], ['magnitude-2:4', 'prune-nm', { n: 2, m: 4 }], ['wanda-2:4', 'prune-nm', { n: 2, m: 4, method: 'wanda' }]] as const) {
    const inc: string[] = [];
    for (const [m, b] of [[lm.model, base.ppl], [re, rebase.ppl]] as const) inc.push(`${(((await perplexity(await q(pass, o)(m, calib), tokens, window)).ppl / b - 1) * 100).toFixed(2).padStart(7)} %`);
    console.log(`${name.padEnd(16)} ${inc.join('  ')}`);
  }
}

/** Run the suite. */
export async function run(args: string[]): Promise<void> {
  if (args[0] === 'gptq-speed') return passSpeed('gptq', args.slice(1));
  if (args[0] === 'sparsegpt-speed') return passSpeed('sparsegpt', args.slice(1));
  if (args[0] === 'wanda-outliers') return wandaOutliers(args.slice(1));
  return quality(args);
}
