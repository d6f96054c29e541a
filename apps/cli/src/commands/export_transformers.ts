/**
 * `whittle export-transformers <model.onnx> --tokenizer tokenizer.json --out <dir> [--variants …]`:
 * the folder Transformers.js loads for a decoder LM with a KV cache — config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json and one `onnx/model<suffix>.onnx`
 * per dtype (fp32, fp16, q8, q4, q4f16), each made by Whittle's passes and checked to load in
 * onnxruntime-node. What goes in the folder is decided by @whittle/eval's browser-safe
 * `transformersJsVariantPlan` / `transformersJsFiles`; this file runs the passes and writes.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { type Model, runRecipe } from '@whittle/graph';
import {
  type TransformersJsVariant, WEBGPU_UNSUPPORTED_OPS, decoderShapeOf, loadTextTokenizer, parseTransformersJsVariants, transformersJsFiles, transformersJsVariantPlan,
} from '@whittle/eval';
import { PROTOBUF_LIMIT, tensorDataBytes, writeFileAtomic, writeModel, writeModelFile } from '@whittle/onnx/node';
import { UsageError } from '../errors.js';
import { formatBytes } from '@whittle/eval/format';
import { readInput, userPath } from '../model_io.js';

/** Flags of `whittle export-transformers`. */
export interface ExportTransformersFlags {
  tokenizer: string;
  tokenizerConfig?: string | undefined;
  out: string;
  variants: string;
  blockSize?: number | undefined;
  accuracyLevel?: number | undefined;
  bosTokenId?: number | undefined;
  eosTokenId?: number | undefined;
  maxPositions?: number | undefined;
  defaultDtype?: string | undefined;
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
  warnings: string[];
}

/** What {@link exportTransformersJs} wrote. */
export interface ExportTransformersResult {
  folder: string;
  files: string[];
  variants: ExportedVariant[];
  config: Record<string, unknown>;
}

function ops(m: Model): string[] {
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

/** Write a variant: inline up to the protobuf limit, else with Transformers.js' `<file>_data` external data. */
async function writeVariant(model: Model, path: string): Promise<{ bytes: number; externalBytes: number }> {
  const { checkOrtLoads } = await import('@whittle/eval/node');
  mkdirSync(join(path, '..'), { recursive: true });
  if (tensorDataBytes(model.graph) <= PROTOBUF_LIMIT * 0.7) {
    const bytes = writeModel(model);
    await checkOrtLoads(bytes, `${basename(path)} (not written)`);
    await writeFileAtomic(path, bytes);
    return { bytes: bytes.length, externalBytes: 0 };
  }
  const location = `${basename(path)}_data`;
  await writeModelFile(model, path, { externalData: { location, sizeThreshold: 1024 } });
  await checkOrtLoads(path, basename(path));
  return { bytes: statSync(path).size, externalBytes: statSync(join(path, '..', location)).size };
}

/**
 * Write the Transformers.js folder of `input` (a decoder with past_key_values inputs): every
 * requested dtype made from the input by its passes, then the JSON files and the tokenizer.
 */
export async function exportTransformersJs(input: string, f: ExportTransformersFlags, log: (line: string) => void = () => {}): Promise<ExportTransformersResult> {
  const model = await readInput(input);
  const shape = decoderShapeOf(model, `'${input}'`);
  const variants = parseTransformersJsVariants(f.variants);
  const tokPath = userPath(f.tokenizer);
  if (!existsSync(tokPath)) throw new UsageError(`tokenizer '${f.tokenizer}' does not exist; give the model's tokenizer.json`);
  const tokText = readFileSync(tokPath, 'utf8');
  const tokCfgText = f.tokenizerConfig ? readFileSync(userPath(f.tokenizerConfig), 'utf8') : undefined;
  const tok = loadTextTokenizer(tokText, tokCfgText, f.tokenizer);
  if (tok.vocabSize > shape.vocab) throw new UsageError(`tokenizer '${f.tokenizer}' has ${tok.vocabSize} tokens, the model's vocabulary only ${shape.vocab}; give the tokenizer the model was trained with`);
  const folder = userPath(f.out);
  if (userPath(input).startsWith(join(folder, 'onnx'))) throw new UsageError(`--out '${f.out}' would overwrite the input model; choose another folder`);
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  const done: ExportedVariant[] = [];
  const external: Record<string, number> = {};
  for (const dtype of variants) {
    const plan = transformersJsVariantPlan(dtype, { ...(f.blockSize ? { blockSize: f.blockSize } : {}), ...(f.accuracyLevel ? { accuracyLevel: f.accuracyLevel } : {}) });
    log(`${dtype}: ${plan.description}`);
    let out = model;
    const warnings: string[] = [];
    if (plan.steps.length) {
      const r = await runRecipe(model, { passes: plan.steps }, { frontEnd: true, seed: 0 });
      for (const s of r.steps) {
        if (!s.report.changed && s.pass !== 'normalize') throw new UsageError(`${dtype}: pass ${s.pass} changed nothing (${s.report.summary}); the model has no weights it can convert`);
        warnings.push(...(s.report.warnings ?? []).map((w) => `${s.pass}: ${w}`));
      }
      out = r.model;
    }
    const used = ops(out);
    if (dtype === 'q4' || dtype === 'q4f16') {
      const bad = used.filter((o) => WEBGPU_UNSUPPORTED_OPS.has(o.split(':').pop()!));
      if (bad.length) warnings.push(`ops without an onnxruntime-web WebGPU kernel: ${bad.join(', ')}`);
    }
    const file = join(folder, plan.path);
    const w = await writeVariant(out, file);
    if (w.externalBytes) external[basename(plan.path)] = 1;
    done.push({ dtype, path: plan.path, ...w, description: plan.description, passes: plan.steps.map((s) => s.pass).filter((p) => p !== 'normalize'), ops: used, warnings });
  }
  const files = transformersJsFiles(shape, {
    tokenizer: tokText,
    tokenizerConfig: tokCfgText ? (JSON.parse(tokCfgText) as Record<string, unknown>) : undefined,
    bosTokenId: f.bosTokenId,
    eosTokenId: f.eosTokenId,
    maxPositions: f.maxPositions,
    externalData: external,
    defaultDtype: f.defaultDtype,
  });
  const json = (o: unknown): string => `${JSON.stringify(o, null, 2)}\n`;
  await writeFileAtomic(join(folder, 'config.json'), json(files.config));
  await writeFileAtomic(join(folder, 'generation_config.json'), json(files.generationConfig));
  await writeFileAtomic(join(folder, 'tokenizer_config.json'), json(files.tokenizerConfig));
  await writeFileAtomic(join(folder, 'tokenizer.json'), tokText);
  const written = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', ...done.flatMap((v) => (v.externalBytes ? [v.path, `${v.path}_data`] : [v.path]))];
  return { folder, files: written, variants: done, config: files.config };
}

const int = (name: string, lo: number, hi: number) => (v: string): number => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < lo || x > hi) throw new InvalidArgumentError(`${name} must be an integer in [${lo}, ${hi}], got '${v}'`);
  return x;
};

/** Register `whittle export-transformers`. */
export function addExportTransformersCommand(program: Command): void {
  program
    .command('export-transformers')
    .description('write the folder Transformers.js loads for a decoder LM with a KV cache: config.json, generation_config.json, tokenizer files and onnx/model<suffix>.onnx per dtype (fp32, fp16, q8, q4, q4f16), each made by Whittle passes and checked in onnxruntime-node')
    .argument('<model>', 'decoder .onnx with past_key_values.N.key/value inputs (Optimum / Transformers.js layout, merged or not)')
    .requiredOption('--tokenizer <file>', "the model's tokenizer.json")
    .requiredOption('--out <dir>', 'the model folder to write (env.localModelPath/<name> for Transformers.js)')
    .option('--variants <list>', 'comma-separated dtypes: fp32, fp16, q8 (dynamic int8), q4 (MatMulNBits), q4f16', 'fp32,fp16,q8,q4,q4f16')
    .option('--tokenizer-config <file>', 'a tokenizer_config.json to copy (default: one written from the tokenizer)')
    .option('--block-size <n>', 'q4/q4f16 block size (power of two)', int('--block-size', 16, 256), 32)
    .option('--accuracy-level <n>', 'q4/q4f16 MatMulNBits accuracy_level (4 = int8 activations: faster on onnxruntime CPU)', int('--accuracy-level', 0, 4))
    .option('--bos-token-id <id>', 'begin-of-text id (default: from the tokenizer)', int('--bos-token-id', 0, 2 ** 31))
    .option('--eos-token-id <id>', 'end-of-text id (default: from the tokenizer)', int('--eos-token-id', 0, 2 ** 31))
    .option('--max-positions <n>', 'longest context (default: rows of the position table)', int('--max-positions', 1, 2 ** 24))
    .option('--default-dtype <dtype>', "dtype Transformers.js loads when the caller names none (transformers.js_config.dtype)")
    .option('--json', 'print what was written as JSON')
    .action(async (model: string, f: ExportTransformersFlags) => {
      if (f.defaultDtype !== undefined && !parseTransformersJsVariants(f.variants).includes(f.defaultDtype as TransformersJsVariant)) throw new UsageError(`--default-dtype ${f.defaultDtype} is not among --variants ${f.variants}`);
      const r = await exportTransformersJs(model, f, f.json ? () => {} : (l) => process.stderr.write(`${l}\n`));
      if (f.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const base = r.variants.find((v) => v.dtype === 'fp32');
      const lines = [`wrote ${r.folder}`, '', '| dtype | file | size | vs fp32 | passes |', '|---|---|---:|---:|---|'];
      for (const v of r.variants) {
        const size = v.bytes + v.externalBytes;
        lines.push(`| ${v.dtype} | ${v.path} | ${formatBytes(size)} | ${base ? `${((base.bytes + base.externalBytes) / size).toFixed(2)}×` : '–'} | ${v.passes.join(' → ') || '(input)'} |`);
      }
      for (const v of r.variants) for (const w of v.warnings) lines.push(`warning (${v.dtype}): ${w}`);
      lines.push('', `config.json: model_type ${String(r.config.model_type)}, ${String(r.config.n_layer)} layers, ${String(r.config.n_head)} heads, vocabulary ${String(r.config.vocab_size)}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
