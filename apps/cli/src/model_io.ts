import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type TransformersJsDtype, transformersJsPath } from '@whittle/eval';
import type { Model } from '@whittle/graph';
import { readModelFile, writeModelFile } from '@whittle/onnx/node';
import { UsageError } from './errors.js';

/** Resolve a user path against the directory the command was typed in (pnpm runs scripts elsewhere). */
export function userPath(p: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** Read an input model, naming the path when it is missing or not a file. */
export async function readInput(path: string): Promise<Model> {
  const p = userPath(path);
  if (!existsSync(p)) throw new UsageError(`input model '${path}' does not exist`);
  if (!statSync(p).isFile()) throw new UsageError(`input model '${path}' is not a file`);
  return readModelFile(p);
}

/**
 * Write the output model atomically; refuses to overwrite the input. With a Transformers.js
 * dtype, `path` is the model folder and the file goes where Transformers.js looks for that
 * dtype (e.g. q4 → `<path>/onnx/model_q4.onnx`).
 */
export async function writeOutput(model: Model, path: string, input?: string, transformersJs?: string): Promise<string> {
  let p = userPath(path);
  if (transformersJs) {
    p = join(p, transformersJsPath(transformersJs as TransformersJsDtype));
    mkdirSync(dirname(p), { recursive: true });
  }
  if (input && userPath(input) === p) throw new UsageError(`output '${path}' is the input model; choose another path (inputs are never modified)`);
  await writeModelFile(model, p);
  return p;
}
