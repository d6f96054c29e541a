/**
 * `whittle export-transformers <folder> --out <dir>`: the variants of every sub-model of a
 * Transformers.js / Optimum model folder (config.json, tokenizer and processor files,
 * `onnx/<sub-model><suffix>.onnx` — an encoder and a merged decoder, text and vision towers, …).
 * Each sub-model's dtypes are made from its float32 file, or re-quantized from its int8 file when
 * the folder ships only that; every variant is loaded and run in onnxruntime-node on made-up
 * inputs and compared with its source before it is written. The folder's other files are copied,
 * and config.json gains the `transformers.js_config` entries of what was written.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { type Model, runRecipe } from '@whittle/graph';
import {
  type FolderVariantSource, TRANSFORMERS_JS_DEFAULT_VARIANTS, type TransformersJsSubModel, type TransformersJsVariant, WEBGPU_UNSUPPORTED_OPS, folderVariantSource, parseTransformersJsVariants, transformersJsPath,
  transformersJsSubModels, transformersJsVariantPlan,
} from '@whittle/eval';
import { tempName, writeFileAtomic } from '@whittle/onnx/node';
import { UsageError } from '../errors.js';
import { readInput, userPath } from '../model_io.js';
import { ENCODER_COSINE_WARN, type ExportedVariant, modelOps, writeVariant } from './export_transformers.js';
import { type InputShapes, folderAgreement, folderProbe, parseShapes, preprocessorShapes } from './export_transformers_folder_probe.js';
import { type Float16RangeData, convertsToFloat16, float16RangeData } from './export_transformers_ranges.js';

/** Flags of `whittle export-transformers` that apply to a model folder. */
export interface ExportFolderFlags {
  out: string;
  /** Comma-separated dtypes (default: every dtype each sub-model has a source for). */
  variants?: string | undefined;
  blockSize?: number | undefined;
  accuracyLevel?: number | undefined;
  defaultDtype?: string | undefined;
  /** Comma-separated sub-model stems to make variants of (default: all). */
  models?: string | undefined;
  /** Fixed input shapes for the onnxruntime check (`input_features=1x80x3000`). */
  shapes?: string | undefined;
}

/** One written (or copied) variant of a sub-model. */
export interface FolderVariant extends Omit<ExportedVariant, 'cosineToFp32' | 'top1ToFp32' | 'maxProbDelta'> {
  /** Sub-model file stem. */
  model: string;
  /** The file it was made from, and how. */
  source: FolderVariantSource;
  /** Smallest cosine of a float output to the source's on the made-up inputs (onnxruntime-node). */
  cosineToSource?: number;
  /** The output with that cosine. */
  worstOutput?: string;
}

/** What {@link exportTransformersFolder} wrote. */
export interface ExportFolderResult {
  kind: 'folder';
  folder: string;
  subModels: string[];
  variants: FolderVariant[];
  /** Files copied unchanged from the input folder (paths inside it). */
  copied: string[];
  config: Record<string, unknown>;
  warnings: string[];
}


function readJson(path: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${what} is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${what} must hold a JSON object`);
  return v as Record<string, unknown>;
}

/** Copy a file through a temp name and rename (readers never see half a file). */
function copyAtomic(from: string, to: string): void {
  const temp = tempName(to);
  try {
    copyFileSync(from, temp);
    renameSync(temp, to);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Files in onnx/ holding a model's external data (`model.onnx_data`, `model.onnx_data_1`, `model.onnx.data`). */
function externalFiles(onnxFiles: readonly string[], file: string): string[] {
  return onnxFiles.filter((f) => f !== file && (f.startsWith(`${file}_data`) || f.startsWith(`${file}.data`)));
}

/** The vocabulary size config.json gives (decoder and encoder-decoder configs nest it). */
function vocabOf(config: Record<string, unknown>): number | undefined {
  for (const c of [config, config.text_config, config.decoder]) {
    const v = (c as Record<string, unknown> | undefined)?.vocab_size;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/**
 * Write the variants of every sub-model of the Transformers.js / Optimum folder `input` into
 * `f.out`, copying the folder's other files; refuses (nothing made) a dtype a sub-model has no
 * source for, and any variant onnxruntime-node refuses or whose outputs turn non-finite.
 */
export async function exportTransformersFolder(input: string, f: ExportFolderFlags, log: (line: string) => void = () => {}): Promise<ExportFolderResult> {
  const root = userPath(input);
  const onnxDir = join(root, 'onnx');
  if (!existsSync(join(root, 'config.json'))) throw new UsageError(`'${input}' has no config.json: not a Transformers.js / Optimum model folder (give a folder with config.json and onnx/, or one .onnx file)`);
  if (!existsSync(onnxDir) || !statSync(onnxDir).isDirectory()) throw new UsageError(`'${input}' has no onnx/ folder of sub-models`);
  const folder = userPath(f.out);
  const rel = relative(root, folder);
  if (rel === '' || !(rel.startsWith('..') || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel))) throw new UsageError(`--out '${f.out}' is the input folder or inside it; choose another folder (the input is never modified)`);
  const onnxFiles = readdirSync(onnxDir).filter((n) => statSync(join(onnxDir, n)).isFile()).sort();
  let subs = transformersJsSubModels(onnxFiles);
  if (!subs.length) throw new UsageError(`'${input}/onnx' holds no .onnx files`);
  if (f.models !== undefined) {
    const want = f.models.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = want.filter((w) => !subs.some((s) => s.stem === w));
    if (unknown.length) throw new UsageError(`--models: no sub-model ${unknown.map((u) => `'${u}'`).join(', ')} in '${input}/onnx' (it has ${subs.map((s) => s.stem).join(', ')})`);
    subs = subs.filter((s) => want.includes(s.stem));
  }
  // every sub-model's sources are known before anything is made; without --variants, each
  // sub-model gets every dtype it has a source for (an int8-only one: q8 kept, q4 and q4f16)
  const makeable = (sub: TransformersJsSubModel, dtype: TransformersJsVariant): boolean => {
    try {
      folderVariantSource(sub, dtype);
      return true;
    } catch {
      return false;
    }
  };
  const chosen = f.variants === undefined ? undefined : parseTransformersJsVariants(f.variants);
  const plan = subs.flatMap((sub) => (chosen ?? TRANSFORMERS_JS_DEFAULT_VARIANTS.filter((d) => makeable(sub, d))).map((dtype) => ({ sub, dtype, source: folderVariantSource(sub, dtype) })));
  if (f.defaultDtype !== undefined) {
    // Transformers.js loads the default dtype for every sub-model: each must have it (made, or already in the folder)
    const all = transformersJsSubModels(onnxFiles);
    const lacking = all.filter((sub) => !plan.some((p) => p.sub.stem === sub.stem && p.dtype === f.defaultDtype) && !sub.files[f.defaultDtype as TransformersJsVariant]).map((x) => x.stem);
    if (lacking.length) throw new UsageError(`--default-dtype ${f.defaultDtype}: ${lacking.join(', ')} would have no ${f.defaultDtype} file; add it to --variants / --models or choose another`);
  }
  const config = readJson(join(root, 'config.json'), `'${input}/config.json'`);
  const pre = existsSync(join(root, 'preprocessor_config.json')) ? readJson(join(root, 'preprocessor_config.json'), `'${input}/preprocessor_config.json'`) : undefined;
  const shapes: InputShapes = { ...preprocessorShapes(pre), ...(f.shapes ? parseShapes(f.shapes) : {}) };
  const vocab = vocabOf(config);

  // a run that would only copy files the folder already has makes nothing: said, nothing written
  if (plan.every((p) => p.source.kind === 'copy' || (p.source.kind === 'float32' && p.dtype === 'fp32'))) {
    throw new UsageError(`nothing to make: every requested file is already in '${input}/onnx' (${plan.map((p) => p.source.file).join(', ')}); ask for a dtype it lacks (--variants fp16,q4,q4f16 from float32, q4,q4f16 from int8)`);
  }
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  const done: FolderVariant[] = [];
  const written = new Set<string>();
  const external: Record<string, number> = {};
  for (const sub of subs) {
    const mine = plan.filter((p) => p.sub === sub);
    const probes = new Map<string, Awaited<ReturnType<typeof folderProbe>>>();
    const rangeData = new Map<string, Float16RangeData>();
    // each source file is read once per sub-model: the passes leave their input unchanged
    const models = new Map<string, Promise<Model>>();
    const load = (file: string): Promise<Model> => {
      let m = models.get(file);
      if (!m) models.set(file, (m = readInput(join(onnxDir, file))));
      return m;
    };
    for (const { dtype, source } of mine) {
      const path = transformersJsPath(dtype, sub.stem);
      const target = join(folder, path);
      if (source.kind === 'copy' || (source.kind === 'float32' && dtype === 'fp32')) {
        log(`${sub.stem} ${dtype}: ${source.file} copied`);
        // (the file already has the dtype's name: fp32 is `<stem>.onnx`, q8 `<stem>_quantized.onnx`)
        for (const file of [source.file, ...externalFiles(onnxFiles, source.file)]) copyAtomic(join(onnxDir, file), join(folder, 'onnx', file));
        written.add(source.file);
        const model = await load(source.file);
        done.push({ model: sub.stem, dtype, source, path, bytes: statSync(target).size, externalBytes: externalFiles(onnxFiles, source.file).reduce((a, x) => a + statSync(join(onnxDir, x)).size, 0), description: source.kind === 'copy' ? 'the folder\'s own file' : 'the input model, float32', passes: [], ops: modelOps(model), warnings: [] });
        continue;
      }
      const p = transformersJsVariantPlan(dtype, { ...(f.blockSize ? { blockSize: f.blockSize } : {}), ...(f.accuracyLevel ? { accuracyLevel: f.accuracyLevel } : {}), keepFloat32Io: true, modelFileName: sub.stem, requantizeInt8: source.kind === 'int8' });
      // a float32 file may hold int8 layers too (partly quantized exports): those are re-quantized alike
      // (an int8 source's dequantized weights fit an asymmetric grid better: Whisper tiny's decoder
      // measured logits cosine 0.93 asymmetric vs 0.59 symmetric on a teacher-forced sentence)
      for (const st of p.steps) if (st.pass === 'quantize-weights') Object.assign(st.options, { requantizeInt8: true, ...(source.kind === 'int8' ? { symmetric: false } : {}) });
      log(`${sub.stem} ${dtype}: ${p.description} (from ${source.file})`);
      const model = await load(source.file);
      const warnings: string[] = [];
      // float16 variants keep in float32 what leaves float16's range on made-up inputs of the sub-model
      let ranges = rangeData.get(source.file);
      if (!ranges && convertsToFloat16(p.steps)) rangeData.set(source.file, (ranges = await float16RangeData(model, { vocab, shapes, decoder: false })));
      const r = await runRecipe(model, { passes: p.steps }, { frontEnd: true, seed: 0, ...(convertsToFloat16(p.steps) ? ranges!.init : {}) });
      let float16: string | undefined;
      for (const s of r.steps) {
        if (!s.report.changed && s.pass !== 'normalize') throw new UsageError(`${sub.stem} ${dtype}: pass ${s.pass} changed nothing (${s.report.summary}); ${source.file} has no weights it can convert`);
        warnings.push(...(s.report.warnings ?? []).map((w) => `${s.pass}: ${w}`));
        if (s.pass === 'convert-float16') float16 = `${s.report.summary}; ranges measured on ${ranges!.description}`;
      }
      // the float16 summary is in the result (the table's lines after it, and --json), said once
      const used = modelOps(r.model);
      if (/^q[24]/.test(dtype)) {
        const bad = used.filter((o) => WEBGPU_UNSUPPORTED_OPS.has(o.split(':').pop()!));
        if (bad.length) warnings.push(`ops without an onnxruntime-web WebGPU kernel: ${bad.join(', ')}`);
      }
      let probe = probes.get(source.file);
      if (!probe) {
        probe = await folderProbe(join(onnxDir, source.file), model, { vocab, shapes, what: `onnx/${source.file}` });
        probes.set(source.file, probe);
      }
      let agree = { cosine: 1, output: '' };
      const w = await writeVariant(r.model, target, async (src) => void (agree = await folderAgreement(probe, src, `${sub.stem} ${dtype} (${path}, not written)`)));
      // (the encoder thresholds; an int8 source's q4 is compared with the int8)
      if (agree.cosine < ENCODER_COSINE_WARN[dtype]) warnings.push(`output '${agree.output}' cosine to ${source.file} ${agree.cosine.toFixed(5)} < ${ENCODER_COSINE_WARN[dtype]} on made-up inputs`);
      if (w.externalBytes) external[basename(path)] = 1;
      done.push({
        model: sub.stem, dtype, source, path, ...w, description: p.description, passes: p.steps.map((s) => s.pass).filter((x) => x !== 'normalize'), ops: used,
        cosineToSource: agree.cosine, ...(agree.output ? { worstOutput: agree.output } : {}), ...(float16 ? { float16 } : {}), warnings,
      });
    }
  }
  // the folder's other files: the tokenizer and processor files, and onnx files not remade here
  const made = new Set(done.map((v) => v.path.slice('onnx/'.length)));
  const copied: string[] = [];
  for (const name of readdirSync(root).sort()) {
    if (name === 'config.json' || name === 'onnx' || !statSync(join(root, name)).isFile()) continue;
    copyAtomic(join(root, name), join(folder, name));
    copied.push(name);
  }
  for (const name of onnxFiles) {
    const owner = onnxFiles.find((o) => o.endsWith('.onnx') && externalFiles(onnxFiles, o).includes(name));
    if (made.has(name) || written.has(name) || (owner && (made.has(owner) || written.has(owner)))) continue;
    copyAtomic(join(onnxDir, name), join(folder, 'onnx', name));
    copied.push(`onnx/${name}`);
  }
  const TJS = 'transformers.js_config';
  const tjs = { ...((typeof config[TJS] === 'object' && config[TJS] !== null ? config[TJS] : {}) as Record<string, unknown>) };
  if (Object.keys(external).length) {
    const before = typeof tjs.use_external_data_format === 'object' && tjs.use_external_data_format !== null ? (tjs.use_external_data_format as Record<string, unknown>) : {};
    tjs.use_external_data_format = { ...before, ...external };
  }
  if (f.defaultDtype !== undefined) tjs.dtype = f.defaultDtype;
  const outConfig: Record<string, unknown> = { ...config, ...(Object.keys(tjs).length ? { [TJS]: tjs } : {}) };
  await writeFileAtomic(join(folder, 'config.json'), `${JSON.stringify(outConfig, null, 2)}\n`);
  const warnings: string[] = [];
  const requantized = done.filter((v) => v.source.kind === 'int8');
  const dtypes = [...new Set(requantized.map((v) => v.dtype))];
  if (requantized.length) warnings.push(`${[...new Set(requantized.map((v) => v.model))].join(', ')}: the folder has no float32 file, so ${dtypes.join(' / ')} ${dtypes.length > 1 ? 'were' : 'was'} re-quantized from the int8 weights (rounded twice); quantizing the float32 export is more accurate when you have it`);
  return { kind: 'folder', folder, subModels: subs.map((s) => s.stem), variants: done, copied, config: outConfig, warnings };
}

/** Folder mode's check of flags that only a single .onnx takes. */
export function refuseSingleFileFlags(f: Record<string, unknown>): void {
  const single = ['tokenizer', 'tokenizerConfig', 'config', 'task', 'labels', 'bosTokenId', 'eosTokenId', 'maxPositions'];
  const given = single.filter((k) => f[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (given.length) throw new UsageError(`${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} for a single .onnx file; a model folder keeps its own config.json and tokenizer files`);
  // one data set cannot feed sub-models with different inputs (an encoder's audio, a decoder's ids)
  if (f.data !== undefined) throw new UsageError('--data is for a single .onnx file; in a model folder each sub-model\'s float16 ranges are measured on made-up inputs of its own (sized by --shapes)');
}
