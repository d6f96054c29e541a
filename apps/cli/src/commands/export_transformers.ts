/**
 * `whittle export-transformers <model.onnx> --tokenizer tokenizer.json --out <dir> [--variants …]`:
 * the folder Transformers.js loads for a decoder LM with a KV cache (Optimum's layout, or
 * onnxruntime-genai's model builder with GroupQueryAttention, written as a llama) — config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json and one `onnx/model<suffix>.onnx`
 * per dtype (fp32, fp16, q8, q4, q4f16), each made by Whittle's passes and checked to load in
 * onnxruntime-node — or for a text encoder (BERT-like: feature extraction, or a text/token
 * classification, masked LM or question answering head): config.json with model_type bert, the
 * head's architecture and labels, no generation config, each variant's outputs compared with the
 * input's.
 * What goes in the folder is decided by @whittle/eval's browser-safe `transformersJsVariantPlan`
 * / `transformersJsFiles` / `transformersJsEncoderFiles`; this file runs the passes and writes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { type Model, runRecipe } from '@whittle/graph';
import {
  type DecoderShape, type EncoderShape, type EncoderTask, type TextModelKind, ENCODER_TASKS, TRANSFORMERS_JS_DEFAULT_VARIANTS, type TransformersJsVariant, WEBGPU_UNSUPPORTED_OPS, decoderShapeOf, encoderShapeOf, loadTextTokenizer, parseTransformersJsVariants,
  textModelKind, tokenizerSpecials, transformersJsEncoderFiles, transformersJsFiles, transformersJsVariantPlan, BERT_CONFIG_SIZES,
} from '@whittle/eval';
import { PROTOBUF_LIMIT, tensorDataBytes, writeFileAtomic, writeModel, writeModelFile } from '@whittle/onnx/node';
import { UsageError } from '../errors.js';
import { formatBytes } from '@whittle/eval/format';
import { readInput, userPath } from '../model_io.js';
import { resolveLabels } from './export_transformers_labels.js';
import { type ExportFolderFlags, type ExportFolderResult, exportTransformersFolder, refuseSingleFileFlags } from './export_transformers_folder.js';
import { type EncoderProbe, type ProbeAgreement, encoderProbe, probeAgreement } from './export_transformers_probe.js';
import { convertsToFloat16, float16RangeData } from './export_transformers_ranges.js';
import { type FolderAgreement, folderAgreement, folderProbe } from './export_transformers_folder_probe.js';

/** Flags of `whittle export-transformers`. */
export interface ExportTransformersFlags {
  /** Comma-separated dtypes (default: fp32, fp16, q8, q4, q4f16). */
  variants?: string | undefined;
  /** The model's tokenizer.json (a single .onnx only; a folder has its own). */
  tokenizer?: string | undefined;
  tokenizerConfig?: string | undefined;
  out: string;
  blockSize?: number | undefined;
  accuracyLevel?: number | undefined;
  bosTokenId?: number | undefined;
  eosTokenId?: number | undefined;
  maxPositions?: number | undefined;
  defaultDtype?: string | undefined;
  /** A JSON file whose fields replace or add to the written config.json. */
  config?: string | undefined;
  /** Encoders: the pipeline to write for (default: told by the outputs). */
  task?: string | undefined;
  /** Classification heads: comma-separated class names by index. */
  labels?: string | undefined;
  /** Data the float16 variants' ranges are measured on (default: made-up token windows). */
  data?: string | undefined;
  json?: boolean | undefined;
}

/** One written variant. */
export interface ExportedVariant {
  dtype: TransformersJsVariant;
  /** Path inside the folder. */
  path: string;
  bytes: number;
  /** Bytes in `<file>_data` (external data), 0 when inline. */
  externalBytes: number;
  description: string;
  passes: string[];
  /** Op types of the main graph and subgraphs (custom domains as domain:op). */
  ops: string[];
  /**
   * Smallest cosine to the input model's outputs in onnxruntime-node: encoders, of the mean-pooled
   * embeddings on the probe batch; decoders, of each float output (logits, present keys/values)
   * on a made-up first step (token ids below the vocabulary, an empty cache).
   */
  cosineToFp32?: number;
  /** Encoder heads: fraction of probe rows (sequences, or unmasked tokens; question answering: sequences × start/end) whose top class (answer start / end token) is the input model's. */
  top1ToFp32?: number;
  /** Encoder heads: largest change of a softmax probability (question answering: over each sequence's tokens) from the input model's on the probe batch. */
  maxProbDelta?: number;
  /** Float16 variants: what the conversion kept in float32 and on which data its ranges were measured. */
  float16?: string;
  warnings: string[];
}

/** What {@link exportTransformersJs} wrote. */
export interface ExportTransformersResult {
  kind: TextModelKind;
  /** Encoders: the pipeline the folder is for. */
  task?: EncoderTask;
  folder: string;
  files: string[];
  variants: ExportedVariant[];
  config: Record<string, unknown>;
  /** About the folder as a whole (e.g. config.json fields the graph does not give). */
  warnings: string[];
}

/** Op types of a model's main graph and subgraphs (custom domains as domain:op), sorted. */
export function modelOps(m: Model): string[] {
  const out = new Set<string>();
  const walk = (g: Model['graph']): void => {
    for (const n of g.nodes) {
      out.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType);
      for (const a of n.attributes.values()) if (a.type === 'graph') walk(a.value);
    }
  };
  walk(m.graph);
  return [...out].sort();
}

/**
 * Write a variant: inline up to the protobuf limit, else with Transformers.js' `<file>_data`
 * external data. `verify` runs on the bytes before they are written, or on the written file
 * (removed again when it throws).
 */
export async function writeVariant(model: Model, path: string, verify?: (source: Uint8Array | string) => Promise<void>): Promise<{ bytes: number; externalBytes: number }> {
  const { checkOrtLoads } = await import('@whittle/eval/node');
  mkdirSync(join(path, '..'), { recursive: true });
  if (tensorDataBytes(model.graph) <= PROTOBUF_LIMIT * 0.7) {
    const bytes = writeModel(model);
    await checkOrtLoads(bytes, `${basename(path)} (not written)`);
    await verify?.(bytes);
    await writeFileAtomic(path, bytes);
    return { bytes: bytes.length, externalBytes: 0 };
  }
  const location = `${basename(path)}_data`;
  await writeModelFile(model, path, { externalData: { location, sizeThreshold: 1024 } });
  try {
    await checkOrtLoads(path, basename(path));
    await verify?.(path);
  } catch (e) {
    for (const f of [path, join(path, '..', location)]) rmSync(f, { force: true });
    throw e;
  }
  return { bytes: statSync(path).size, externalBytes: statSync(join(path, '..', location)).size };
}

/** Cosine of mean-pooled embeddings to the input's below which an encoder variant gets a warning (a 2-layer BERT-like fixture measures fp16 0.9999998, q8 0.99994, q4 and q4f16 0.98). */
export const ENCODER_COSINE_WARN: Record<TransformersJsVariant, number> = { fp32: 0.99999, fp16: 0.99, q8: 0.99, int8: 0.99, uint8: 0.99, q4: 0.95, q4f16: 0.95, q2: 0.8, q2f16: 0.8, bnb4: 0.95 };
/** Largest softmax probability change on the probe batch above which a head's variant gets a warning (the tiny BERT heads measure fp16 ≤ 0.0006, q8 ≤ 0.008, q4 and q4f16 ≤ 0.12; its question answering head's start/end scores fp16 0.0011, q8 0.016, q4 and q4f16 0.21). */
export const HEAD_PROB_DELTA_WARN: Record<TransformersJsVariant, number> = { fp32: 1e-5, fp16: 0.02, q8: 0.1, int8: 0.1, uint8: 0.1, q4: 0.2, q4f16: 0.2, q2: 0.4, q2f16: 0.4, bnb4: 0.2 };

function parseTask(v: string | undefined): EncoderTask | undefined {
  if (v === undefined) return undefined;
  if (!ENCODER_TASKS.includes(v as EncoderTask)) throw new UsageError(`--task '${v}' is not an encoder task; choose from ${ENCODER_TASKS.join(', ')}`);
  return v as EncoderTask;
}

function readJsonObject(file: string, flag: string): Record<string, unknown> {
  const p = userPath(file);
  if (!existsSync(p)) throw new UsageError(`${flag} '${file}' does not exist`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new UsageError(`${flag} '${file}' is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${flag} '${file}' must hold a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * Write the Transformers.js folder of `input` (a decoder with past_key_values inputs, or a text
 * encoder taking input_ids): every requested dtype made from the input by its passes, then the
 * JSON files and the tokenizer. Encoder variants are run on a probe batch in onnxruntime-node and
 * compared with the input model (a non-finite output refuses the variant).
 */
export async function exportTransformersJs(input: string, f: ExportTransformersFlags, log: (line: string) => void = () => {}): Promise<ExportTransformersResult> {
  if (f.tokenizer === undefined) throw new UsageError(`--tokenizer is required for a single .onnx file: give the model's tokenizer.json (or give a model folder with config.json, tokenizer and onnx/)`);
  const model = await readInput(input);
  const kind = textModelKind(model, `'${input}'`);
  const task = parseTask(f.task);
  if (kind === 'decoder' && (task !== undefined || f.labels !== undefined)) throw new UsageError(`--task / --labels are for text encoders; '${input}' is a decoder LM (past_key_values inputs)`);
  const decoder: DecoderShape | undefined = kind === 'decoder' ? decoderShapeOf(model, `'${input}'`) : undefined;
  const rotary = decoder?.attention?.rotaryPositions;
  if (rotary !== undefined && f.maxPositions !== undefined && f.maxPositions > rotary) throw new UsageError(`--max-positions ${f.maxPositions} exceeds the ${rotary} rows of '${input}''s rotary cos/sin caches (GroupQueryAttention embeds no later position)`);
  const encoder: EncoderShape | undefined = kind === 'encoder' ? encoderShapeOf(model, `'${input}'`, { task }) : undefined;
  if (encoder && (f.bosTokenId !== undefined || f.eosTokenId !== undefined)) throw new UsageError(`--bos-token-id / --eos-token-id are for decoder LMs; '${input}' is a text encoder (input_ids, no KV cache)`);
  const variants = parseTransformersJsVariants(f.variants ?? TRANSFORMERS_JS_DEFAULT_VARIANTS.join(','));
  const userConfig = f.config ? readJsonObject(f.config, '--config') : {};
  const labels = encoder ? resolveLabels(encoder, f.labels, userConfig) : undefined;
  // the written id2label / label2id are the resolved ones, consistent with each other
  if (labels?.labels) for (const k of ['id2label', 'label2id']) delete userConfig[k];
  const tokPath = userPath(f.tokenizer);
  if (!existsSync(tokPath)) throw new UsageError(`tokenizer '${f.tokenizer}' does not exist; give the model's tokenizer.json`);
  const tokText = readFileSync(tokPath, 'utf8');
  const tokCfgText = f.tokenizerConfig ? readFileSync(userPath(f.tokenizerConfig), 'utf8') : undefined;
  const tok = loadTextTokenizer(tokText, tokCfgText, f.tokenizer);
  const given = userConfig.vocab_size;
  const vocab = decoder?.vocab ?? encoder?.vocab ?? (typeof given === 'number' ? given : undefined);
  if (vocab !== undefined && tok.vocabSize > vocab) throw new UsageError(`tokenizer '${f.tokenizer}' has ${tok.vocabSize} tokens, the model's vocabulary only ${vocab}; give the tokenizer the model was trained with`);
  const folder = userPath(f.out);
  if (userPath(input).startsWith(join(folder, 'onnx'))) throw new UsageError(`--out '${f.out}' would overwrite the input model; choose another folder`);
  let probe: EncoderProbe | undefined;
  // a decoder's variants are run on a made-up first step (token ids, an empty cache) and compared output by output
  const decoderProbe = decoder ? await folderProbe(userPath(input), model, { vocab: Math.min(tok.vocabSize, vocab ?? tok.vocabSize), shapes: {}, what: `'${input}'` }) : undefined;
  if (encoder) {
    const specials = tokenizerSpecials(tokText);
    const idsShape = model.graph.inputs.find((i) => i.name === 'input_ids')?.type?.shape;
    const fixed = (d: number): number | undefined => (typeof idsShape?.[d] === 'number' && idsShape[d] > 0 ? idsShape[d] : undefined);
    const id = (names: string[]): number | undefined => names.map((n) => specials.get(n)).find((x) => x !== undefined);
    probe = await encoderProbe(userPath(input), encoder, { vocab: Math.min(tok.vocabSize, vocab ?? tok.vocabSize), specials: new Set(specials.values()), cls: id(['[CLS]', '<s>']), sep: id(['[SEP]', '</s>']), pad: tok.padId }, { batch: fixed(0), length: fixed(1) });
  }
  const plans = variants.map((dtype) => transformersJsVariantPlan(dtype, { ...(f.blockSize ? { blockSize: f.blockSize } : {}), ...(f.accuracyLevel ? { accuracyLevel: f.accuracyLevel } : {}), keepFloat32Io: kind === 'encoder' }));
  // float16 variants keep in float32 what leaves float16's range on this data
  const ranges = plans.some((p) => convertsToFloat16(p.steps)) ? await float16RangeData(model, { data: f.data, vocab: Math.min(tok.vocabSize, vocab ?? tok.vocabSize), decoder: kind === 'decoder' }) : undefined;
  if (ranges) log(`float16 ranges measured on ${ranges.detail}`);
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  const done: ExportedVariant[] = [];
  const external: Record<string, number> = {};
  for (const plan of plans) {
    const { dtype } = plan;
    log(`${dtype}: ${plan.description}`);
    let out = model;
    const warnings: string[] = [];
    let float16: string | undefined;
    if (plan.steps.length) {
      const r = await runRecipe(model, { passes: plan.steps }, { frontEnd: true, seed: 0, ...(convertsToFloat16(plan.steps) ? ranges!.init : {}) });
      for (const s of r.steps) {
        if (!s.report.changed && s.pass !== 'normalize') throw new UsageError(`${dtype}: pass ${s.pass} changed nothing (${s.report.summary}); the model has no weights it can convert`);
        warnings.push(...(s.report.warnings ?? []).map((w) => `${s.pass}: ${w}`));
        if (s.pass === 'convert-float16') float16 = `${s.report.summary}; ranges measured on ${ranges!.description}`;
      }
      out = r.model;
    }
    if (float16) log(`${dtype}: ${float16}`);
    const used = modelOps(out);
    if (/^q[24]/.test(dtype)) {
      const bad = used.filter((o) => WEBGPU_UNSUPPORTED_OPS.has(o.split(':').pop()!));
      if (bad.length) warnings.push(`ops without an onnxruntime-web WebGPU kernel: ${bad.join(', ')}`);
    }
    const file = join(folder, plan.path);
    let agree: ProbeAgreement = {};
    let logits: FolderAgreement | undefined;
    const verify = probe
      ? async (src: Uint8Array | string): Promise<void> => void (agree = await probeAgreement(probe, src, encoder!.outputs, `${dtype} (${plan.path}, not written)`))
      : async (src: Uint8Array | string): Promise<void> => void (logits = await folderAgreement(decoderProbe!, src, `${dtype} (${plan.path}, not written)`));
    const w = await writeVariant(out, file, verify);
    const { top1, maxProbDelta } = agree;
    const cosine = agree.cosine ?? logits?.cosine;
    if (agree.cosine !== undefined && agree.cosine < ENCODER_COSINE_WARN[dtype]) warnings.push(`embeddings cosine to the input model ${agree.cosine.toFixed(5)} < ${ENCODER_COSINE_WARN[dtype]} on the probe batch`);
    if (logits && logits.cosine < ENCODER_COSINE_WARN[dtype]) warnings.push(`output '${logits.output}' cosine to the input model ${logits.cosine.toFixed(5)} < ${ENCODER_COSINE_WARN[dtype]} on a made-up first step (${decoderProbe!.description})`);
    if (maxProbDelta !== undefined && maxProbDelta > HEAD_PROB_DELTA_WARN[dtype]) warnings.push(`a softmax probability moves by ${maxProbDelta.toFixed(4)} > ${HEAD_PROB_DELTA_WARN[dtype]} from the input model's on the probe batch (top-1 agreement ${((top1 ?? 0) * 100).toFixed(1)}%)`);
    if (w.externalBytes) external[basename(plan.path)] = 1;
    done.push({
      dtype, path: plan.path, ...w, description: plan.description, passes: plan.steps.map((s) => s.pass).filter((p) => p !== 'normalize'), ops: used,
      ...(cosine !== undefined ? { cosineToFp32: cosine } : {}), ...(top1 !== undefined ? { top1ToFp32: top1, maxProbDelta } : {}), ...(float16 ? { float16 } : {}), warnings,
    });
  }
  const common = {
    tokenizer: tokText,
    tokenizerConfig: tokCfgText ? (JSON.parse(tokCfgText) as Record<string, unknown>) : undefined,
    maxPositions: f.maxPositions,
    externalData: external,
    defaultDtype: f.defaultDtype,
    labels: labels?.labels,
  };
  const files = decoder ? transformersJsFiles(decoder, { ...common, bosTokenId: f.bosTokenId, eosTokenId: f.eosTokenId }) : { ...transformersJsEncoderFiles(encoder!, common), generationConfig: undefined };
  const config: Record<string, unknown> = { ...files.config, ...userConfig };
  // the user's transformers.js_config keeps the external data files and default dtype written here
  const TJS = 'transformers.js_config';
  if (typeof userConfig[TJS] === 'object' && userConfig[TJS] !== null && files.config[TJS]) config[TJS] = { ...(userConfig[TJS] as Record<string, unknown>), ...(files.config[TJS] as Record<string, unknown>) };
  const warnings: string[] = [];
  if (encoder) {
    const missing = BERT_CONFIG_SIZES.filter((k) => config[k] === undefined);
    if (missing.length) warnings.push(`config.json has no ${missing.join(', ')} (not found in the graph); give them with --config`);
    if (!encoder.attentionMask) warnings.push(`the model takes no attention_mask: padded batches attend to the padding; ${encoder.task === 'feature-extraction' ? 'embed' : 'run'} texts one at a time`);
    if (labels?.note) warnings.push(labels.note);
    if (encoder.task === 'fill-mask' && !files.tokenizerConfig.mask_token) warnings.push(`the tokenizer has no [MASK] or <mask> special token, which the fill-mask pipeline looks for; give a --tokenizer-config with mask_token`);
    // the pipeline looks for the answer after the first separator (question [SEP] context)
    if (encoder.task === 'question-answering' && !files.tokenizerConfig.sep_token) warnings.push(`the tokenizer has no [SEP] or </s> special token, which the question-answering pipeline looks for to tell the question from the context; give a --tokenizer-config with sep_token`);
  }
  // GroupQueryAttention sees the mask only as per-row lengths (seqlens_k = ReduceSum(attention_mask) − 1), so
  // padding inside a batch is attended to and misplaces the cache; one prompt at a time is exact
  if (decoder?.attention) warnings.push(`${decoder.attention.op} reads attention_mask only as per-row lengths: padded batches of prompts generate differently from the same prompts one at a time; generate one prompt per call`);
  const json = (o: unknown): string => `${JSON.stringify(o, null, 2)}\n`;
  await writeFileAtomic(join(folder, 'config.json'), json(config));
  if (files.generationConfig) await writeFileAtomic(join(folder, 'generation_config.json'), json(files.generationConfig));
  await writeFileAtomic(join(folder, 'tokenizer_config.json'), json(files.tokenizerConfig));
  await writeFileAtomic(join(folder, 'tokenizer.json'), tokText);
  const written = ['config.json', ...(files.generationConfig ? ['generation_config.json'] : []), 'tokenizer.json', 'tokenizer_config.json', ...done.flatMap((v) => (v.externalBytes ? [v.path, `${v.path}_data`] : [v.path]))];
  return { kind, ...(encoder ? { task: encoder.task } : {}), folder, files: written, variants: done, config, warnings };
}

/** The folder mode's summary: one row per sub-model and dtype. */
function folderTable(r: ExportFolderResult): string[] {
  const lines = [`wrote ${r.folder} (sub-models: ${r.subModels.join(', ')})`, '', '| sub-model | dtype | file | size | vs source | cosine to source | made from |', '|---|---|---|---:|---:|---:|---|'];
  for (const v of r.variants) {
    const src = r.variants.find((x) => x.model === v.model && x.path.endsWith(`/${v.source.file}`));
    const size = v.bytes + v.externalBytes;
    const ratio = src && src !== v ? `${((src.bytes + src.externalBytes) / size).toFixed(2)}×` : '–';
    const how = v.source.kind === 'copy' ? 'copied' : v.passes.length ? `${v.source.file}: ${v.passes.join(' → ')}` : 'copied';
    lines.push(`| ${v.model} | ${v.dtype} | ${v.path} | ${formatBytes(size)} | ${ratio} | ${v.cosineToSource?.toFixed(5) ?? '–'} | ${how} |`);
  }
  for (const v of r.variants) if (v.float16) lines.push(`${v.model} ${v.dtype}: ${v.float16}`);
  for (const v of r.variants) for (const w of v.warnings) lines.push(`warning (${v.model} ${v.dtype}): ${w}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push('', `copied: ${r.copied.join(', ') || 'nothing'}; cosine: smallest over the float outputs, made-up inputs, onnxruntime-node`);
  return lines;
}

const int = (name: string, lo: number, hi: number) => (v: string): number => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < lo || x > hi) throw new InvalidArgumentError(`${name} must be an integer in [${lo}, ${hi}], got '${v}'`);
  return x;
};

/** A power of two in [lo, hi] (MatMulNBits and GatherBlockQuantized blocks). */
const powerOfTwo = (name: string, lo: number, hi: number) => (v: string): number => {
  const x = int(name, lo, hi)(v);
  if ((x & (x - 1)) !== 0) throw new InvalidArgumentError(`${name} must be a power of two (MatMulNBits and GatherBlockQuantized take no other block), got '${v}'`);
  return x;
};

/** What a decoder's cosine column compares. */
const DECODER_COSINE = 'cosine: logits and present keys/values vs the input model in onnxruntime-node on a made-up first step (smallest over the outputs)';

/** Register `whittle export-transformers`. */
export function addExportTransformersCommand(program: Command): void {
  program
    .command('export-transformers')
    .description('write the folder Transformers.js loads for a decoder LM with a KV cache (config.json, generation_config.json) or a BERT-like text encoder — feature extraction, or a text-classification, token-classification, fill-mask or question-answering head (config.json with model_type bert, architectures, id2label): tokenizer files and onnx/model<suffix>.onnx per dtype (fp32, fp16, q8, q4, q4f16), each made by Whittle passes and checked in onnxruntime-node (encoders: embeddings, logits or start/end logits compared with the input model\'s)')
    .argument('<model>', 'a Transformers.js / Optimum model folder (config.json, tokenizer files, onnx/<sub-model>.onnx: every sub-model gets the variants, made from its float32 file, or q4/q4f16 re-quantized from its int8 file when that is all it ships), or a decoder .onnx with past_key_values.N.key/value inputs (Optimum / Transformers.js layout, merged or not: model_type gpt2 with a learned position table, llama with rotary positions and grouped key/value heads; or onnxruntime-genai\'s model builder, GroupQueryAttention with rotary caches, model_type llama), or encoder .onnx taking input_ids [, attention_mask, token_type_ids] with a last_hidden_state or logits output, or start_logits and end_logits (question answering)')
    .option('--tokenizer <file>', "the model's tokenizer.json (required for a single .onnx)")
    .requiredOption('--out <dir>', 'the model folder to write (env.localModelPath/<name> for Transformers.js)')
    .option('--variants <list>', 'comma-separated dtypes: fp32, fp16, q8 (dynamic int8), int8 / uint8 (q8 with signed / unsigned weights; uint8 also convolutions), q4 (MatMulNBits), q4f16, q2 / q2f16 (2-bit MatMulNBits, asymmetric), bnb4 (NF4 MatMulBnb4, CPU/wasm) (default: fp32, fp16, q8, q4, q4f16; for a model folder, those each sub-model has a source for)')
    .option('--tokenizer-config <file>', 'a tokenizer_config.json to copy (default: one written from the tokenizer)')
    .option('--block-size <n>', 'q4/q4f16 block size (power of two)', powerOfTwo('--block-size', 16, 256), 32)
    .option('--accuracy-level <n>', 'q4/q4f16 MatMulNBits accuracy_level (4 = int8 activations: faster on onnxruntime CPU)', int('--accuracy-level', 0, 4))
    .option('--bos-token-id <id>', 'begin-of-text id (default: from the tokenizer)', int('--bos-token-id', 0, 2 ** 31))
    .option('--eos-token-id <id>', 'end-of-text id (default: from the tokenizer)', int('--eos-token-id', 0, 2 ** 31))
    .option('--max-positions <n>', 'longest context (default: rows of the position table)', int('--max-positions', 1, 2 ** 24))
    .option('--default-dtype <dtype>', "dtype Transformers.js loads when the caller names none (transformers.js_config.dtype)")
    .option('--config <file>', 'a JSON object whose fields replace or add to the written config.json (e.g. the original config.json, or {"model_type": "distilbert"})')
    .option('--task <task>', `encoders: the pipeline to write for, ${ENCODER_TASKS.join(', ')} (default: start_logits / end_logits outputs are question-answering, a logits output [batch, labels] text-classification, [batch, sequence, vocabulary] fill-mask, [batch, sequence, labels] token-classification; else feature-extraction)`)
    .option('--data <path|spec>', 'fp16 / q4f16: samples the float32 model is run on to find the ops whose values leave float16\'s range, which stay float32: token ids (.jsonl), raw text with its tokenizer.json, a data spec (default: 8 made-up windows of token ids below the vocabulary size; 1 made-up sample for float inputs)')
    .option('--labels <list>', 'classification heads: comma-separated class names by index, written as id2label / label2id (default: the --config id2label, else LABEL_0, LABEL_1, …)')
    .option('--models <list>', 'model folders: comma-separated sub-model file stems to make variants of, e.g. encoder_model,decoder_model_merged (default: every sub-model in onnx/)')
    .option('--shapes <list>', 'model folders: input sizes for the onnxruntime check of each variant on made-up inputs, e.g. input_features=1x80x3000 (default: from preprocessor_config.json, else small)')
    .option('--json', 'print what was written as JSON')
    .action(async (model: string, f: ExportTransformersFlags & ExportFolderFlags) => {
      if (f.defaultDtype !== undefined && f.variants !== undefined && !parseTransformersJsVariants(f.variants).includes(f.defaultDtype as TransformersJsVariant)) throw new UsageError(`--default-dtype ${f.defaultDtype} is not among --variants ${f.variants}`);
      if (existsSync(userPath(model)) && statSync(userPath(model)).isDirectory()) {
        refuseSingleFileFlags(f as unknown as Record<string, unknown>);
        const r = await exportTransformersFolder(model, f, f.json ? () => {} : (l) => process.stderr.write(`${l}\n`));
        process.stdout.write(f.json ? `${JSON.stringify(r, null, 2)}\n` : `${folderTable(r).join('\n')}\n`);
        return;
      }
      if (f.models !== undefined || f.shapes !== undefined) throw new UsageError('--models / --shapes are for a model folder; a single .onnx is one model');
      const r = await exportTransformersJs(model, f, f.json ? () => {} : (l) => process.stderr.write(`${l}\n`));
      if (f.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const base = r.variants.find((v) => v.dtype === 'fp32');
      const enc = r.kind === 'encoder';
      const head = enc && r.task !== 'feature-extraction';
      const col = head ? ' top-1 | max Δp |' : ' cosine |';
      const lines = [`wrote ${r.folder}`, '', `| dtype | file | size | vs fp32 |${col} passes |`, `|---|---|---:|---:|${head ? '---:|---:|' : '---:|'}---|`];
      for (const v of r.variants) {
        const size = v.bytes + v.externalBytes;
        const cos = head ? ` ${v.top1ToFp32 !== undefined ? `${(v.top1ToFp32 * 100).toFixed(1)}%` : '–'} | ${v.maxProbDelta?.toFixed(4) ?? '–'} |` : ` ${v.cosineToFp32?.toFixed(5) ?? '–'} |`;
        lines.push(`| ${v.dtype} | ${v.path} | ${formatBytes(size)} | ${base ? `${((base.bytes + base.externalBytes) / size).toFixed(2)}×` : '–'} |${cos} ${v.passes.join(' → ') || '(input)'} |`);
      }
      for (const v of r.variants) if (v.float16) lines.push(`${v.dtype}: ${v.float16}`);
      for (const v of r.variants) for (const w of v.warnings) lines.push(`warning (${v.dtype}): ${w}`);
      for (const w of r.warnings) lines.push(`warning: ${w}`);
      const c = r.config;
      const n = (x: unknown): string => (x === undefined ? '?' : String(x));
      const id2label = c.id2label && typeof c.id2label === 'object' ? Object.values(c.id2label as Record<string, unknown>).map(String) : undefined;
      const top1 = r.task === 'question-answering' ? "probe sequences' answer start and end tokens that are the input model's" : "probe rows whose top class is the input model's";
      const what = head
        ? `${r.task} (${n((c.architectures as unknown[] | undefined)?.[0])}${id2label ? `, labels ${id2label.join(', ')}` : ''}); top-1: ${top1}, max Δp: largest softmax probability change (onnxruntime-node)`
        : 'cosine: mean-pooled embeddings vs the input model in onnxruntime-node (smallest over the probe batch)';
      lines.push('', enc
        ? `config.json: model_type ${n(c.model_type)}, ${n(c.num_hidden_layers)} layers, ${n(c.num_attention_heads)} heads, hidden ${n(c.hidden_size)}, vocabulary ${n(c.vocab_size)}; ${what}`
        : c.model_type === 'llama'
          ? `config.json: model_type llama, ${n(c.num_hidden_layers)} layers, ${n(c.num_attention_heads)} query heads over ${n(c.num_key_value_heads)} key/value heads of ${n(c.head_dim)}, vocabulary ${n(c.vocab_size)}, ${n(c.max_position_embeddings)} positions; ${DECODER_COSINE}`
          : `config.json: model_type ${n(c.model_type)}, ${n(c.n_layer)} layers, ${n(c.n_head)} heads, vocabulary ${n(c.vocab_size)}; ${DECODER_COSINE}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
