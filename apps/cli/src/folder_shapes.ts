/**
 * Input sizes a model's Transformers.js folder states: a sub-model read from `<folder>/onnx/` next
 * to `<folder>/preprocessor_config.json` takes what that processor makes (Whisper's encoder:
 * input_features [batch, 80, 3000], which no made-up default guesses). Made-up data for such a
 * model uses them, and says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Model } from '@whittle/graph';
import { type AudioFeatureExtractor, type ModelInputSpec, modelInputSpecs } from '@whittle/eval';
import { type InputShapes, preprocessorShapes } from './commands/export_transformers_folder_probe.js';

const folderShapes = new WeakMap<Model, { shapes: InputShapes; from: string; config: Record<string, unknown> }>();
const said = new Set<string>();

/** Remember the sizes of `path`'s folder for `model` (a file in `onnx/` with a preprocessor_config.json beside that folder). */
export function noteFolderShapes(model: Model, path: string): void {
  const dir = dirname(path);
  if (basename(dir) !== 'onnx') return;
  const pre = join(dirname(dir), 'preprocessor_config.json');
  if (!existsSync(pre)) return;
  try {
    const config = JSON.parse(readFileSync(pre, 'utf8')) as Record<string, unknown>;
    folderShapes.set(model, { shapes: preprocessorShapes(config), from: pre, config });
  } catch {
    // an unreadable config states nothing: the made-up defaults apply
  }
}

/** Give `model` the folder sizes `from` has (evaluate's variants take the baseline's data, wherever their files are). */
export function inheritFolderShapes(model: Model, from: Model | undefined): void {
  const f = from ? folderShapes.get(from) : undefined;
  if (f && !folderShapes.has(model)) folderShapes.set(model, f);
}

/**
 * The model's input specs (@whittle/eval's `modelInputSpecs`) with the dynamic dims its folder's
 * preprocessor_config.json sizes filled in (the batch axis stays open).
 */
export function cliInputSpecs(model: Model): ModelInputSpec[] {
  return withFolderSizes(model).specs;
}

/** Say once, for made-up data, which sizes the folder gave (`data:` line on stderr). */
export function noteFolderSizes(model: Model): void {
  const { filled } = withFolderSizes(model);
  const f = folderShapes.get(model);
  if (!f || !filled.length || said.has(f.from)) return;
  said.add(f.from);
  process.stderr.write(`data: made-up inputs sized as ${f.from} states: ${filled.join('; ')}\n`);
}

function withFolderSizes(model: Model): { specs: ModelInputSpec[]; filled: string[] } {
  const specs = modelInputSpecs(model);
  const f = folderShapes.get(model);
  const filled: string[] = [];
  if (!f) return { specs, filled };
  const out = specs.map((s) => {
    const given = f.shapes[s.name];
    if (!given || !s.shape || s.shape.length !== given.length) return s;
    const shape = s.shape.map((d, k) => (k === 0 || typeof d === 'number' ? d : given[k]!));
    if (shape.some((d, k) => d !== s.shape![k])) filled.push(`${s.name} [${shape.slice(1).join(', ')}]`);
    return { ...s, shape };
  });
  return { specs: out, filled };
}

/**
 * The folder's audio feature extractor (Transformers.js, from its preprocessor_config.json: a
 * WhisperFeatureExtractor makes the 80×3000 log-mel input_features of 30 s of audio) when it feeds
 * one of the model's inputs; undefined for models outside such a folder or without one. `.wav`
 * data for the model then goes through it, as the Transformers.js pipeline feeds the model.
 */
export async function audioFeaturesFor(model: Model): Promise<AudioFeatureExtractor | undefined> {
  const f = folderShapes.get(model);
  const rate = f?.config.sampling_rate;
  if (!f || typeof rate !== 'number' || typeof f.config.feature_extractor_type !== 'string') return undefined;
  // an optional peer: the CLI reads such folders' audio through it when it is installed
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch {
    process.stderr.write(`note: ${f.from} names a ${f.config.feature_extractor_type}; install @huggingface/transformers (npm i @huggingface/transformers) for .wav data to reach the model through it\n`);
    return undefined;
  }
  const { AutoFeatureExtractor, env } = transformers;
  // the folder itself, never the network
  const saved = { remote: env.allowRemoteModels, local: env.allowLocalModels, path: env.localModelPath };
  let fe: (audio: Float32Array) => Promise<Record<string, { data: unknown; dims: number[] }>>;
  try {
    Object.assign(env, { allowRemoteModels: false, allowLocalModels: true, localModelPath: `${dirname(dirname(f.from))}/` });
    fe = (await AutoFeatureExtractor.from_pretrained(basename(dirname(f.from)))) as unknown as typeof fe;
  } finally {
    Object.assign(env, { allowRemoteModels: saved.remote, allowLocalModels: saved.local, localModelPath: saved.path });
  }
  const samples = typeof f.config.n_samples === 'number' ? f.config.n_samples : typeof f.config.chunk_length === 'number' ? f.config.chunk_length * rate : undefined;
  const probe = await fe(new Float32Array(samples ?? rate));
  const inputs = new Set(model.graph.inputs.map((i) => i.name));
  const key = Object.keys(probe).find((k) => inputs.has(k));
  if (!key) return undefined;
  const shape = probe[key]!.dims.slice(1);
  return {
    description: `${f.config.feature_extractor_type} of ${f.from} (Transformers.js)`,
    input: key,
    sampleRate: rate,
    ...(samples ? { samples } : {}),
    shape,
    async extract(window) {
      const out = (await fe(window))[key]!;
      return out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number>);
    },
  };
}
