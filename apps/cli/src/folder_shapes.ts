/**
 * Input sizes a model's Transformers.js folder states: a sub-model read from `<folder>/onnx/` next
 * to `<folder>/preprocessor_config.json` takes what that processor makes (Whisper's encoder:
 * input_features [batch, 80, 3000], which no made-up default guesses). Made-up data for such a
 * model uses them, and says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Model } from '@whittle/graph';
import { type ModelInputSpec, modelInputSpecs } from '@whittle/eval';
import { type InputShapes, preprocessorShapes } from './commands/export_transformers_folder_probe.js';

const folderShapes = new WeakMap<Model, { shapes: InputShapes; from: string }>();
const said = new Set<string>();

/** Remember the sizes of `path`'s folder for `model` (a file in `onnx/` with a preprocessor_config.json beside that folder). */
export function noteFolderShapes(model: Model, path: string): void {
  const dir = dirname(path);
  if (basename(dir) !== 'onnx') return;
  const pre = join(dirname(dir), 'preprocessor_config.json');
  if (!existsSync(pre)) return;
  try {
    const shapes = preprocessorShapes(JSON.parse(readFileSync(pre, 'utf8')) as Record<string, unknown>);
    if (Object.keys(shapes).length) folderShapes.set(model, { shapes, from: pre });
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
 * preprocessor_config.json sizes filled in (the batch axis stays open); says once where they came from.
 */
export function cliInputSpecs(model: Model): ModelInputSpec[] {
  const specs = modelInputSpecs(model);
  const f = folderShapes.get(model);
  if (!f) return specs;
  const filled: string[] = [];
  const out = specs.map((s) => {
    const given = f.shapes[s.name];
    if (!given || !s.shape || s.shape.length !== given.length) return s;
    const shape = s.shape.map((d, k) => (k === 0 || typeof d === 'number' ? d : given[k]!));
    if (shape.some((d, k) => d !== s.shape![k])) filled.push(`${s.name} [${shape.slice(1).join(', ')}]`);
    return { ...s, shape };
  });
  if (filled.length && !said.has(f.from)) {
    said.add(f.from);
    process.stderr.write(`data: made-up inputs sized as ${f.from} states: ${filled.join('; ')}\n`);
  }
  return out;
}
