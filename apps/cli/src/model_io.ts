import { existsSync, mkdirSync, statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
// @whittle/eval (and with it onnxruntime-node) is imported when a model is written, not at
// start-up: `whittle inspect` reads models only (see `pnpm bench cli`).
import type { TransformersJsDtype } from '@whittle/eval';
import { NoCompressionError, type Model, weightBytes } from '@whittle/graph';
import { PROTOBUF_LIMIT, externalTarget, readModelFile, tensorDataBytes, writeFileAtomic, writeModel, writeModelFile } from '@whittle/onnx/node';
import { UsageError } from './errors.js';

/**
 * Resolve a user path against the directory the command was typed in. Only when whittle runs as
 * this package's own pnpm/npm script (`pnpm whittle …`, `pnpm demo`) is that INIT_CWD rather than
 * the process's cwd; an installed `whittle` started by another project's script uses its cwd.
 */
export function userPath(p: string): string {
  const viaOwnScript = process.env.npm_package_name === 'whittle' && process.env.INIT_CWD;
  return resolve(viaOwnScript ? process.env.INIT_CWD! : process.cwd(), p);
}

/** Read an input model, naming the path when it is missing or not a file. */
export async function readInput(path: string): Promise<Model> {
  const p = userPath(path);
  if (!existsSync(p)) throw new UsageError(`input model '${path}' does not exist`);
  if (!statSync(p).isFile()) throw new UsageError(`input model '${path}' is not a file`);
  return readModelFile(p);
}

/** Options of {@link writeOutput}. */
export interface WriteOutputOptions {
  /** The input file: never overwritten, and the output must not be larger than it. */
  input?: string | undefined;
  /** The model read from `input` (to tell whether the input file holds its weights inline). */
  original?: Model | undefined;
  /** Transformers.js dtype: `path` is then the model folder. */
  transformersJs?: string | undefined;
}

/** Size of the input file when it holds its weights inline (no external data), else undefined. */
function inlineInputBytes(path: string, original: Model | undefined): number | undefined {
  const size = statSync(path).size;
  return original && size >= weightBytes(original) ? size : undefined;
}

async function resolveOutput(path: string, opts: WriteOutputOptions): Promise<string> {
  let p = userPath(path);
  if (opts.transformersJs) {
    const { transformersJsPath } = await import('@whittle/eval');
    p = join(p, transformersJsPath(opts.transformersJs as TransformersJsDtype));
  }
  if (opts.input && userPath(opts.input) === p) throw new UsageError(`output '${path}' is the input model; choose another path (inputs are never modified)`);
  return p;
}

/**
 * Write the output model atomically after checking it: onnxruntime-node must load it, and it must
 * not be larger than the input file (a compression that grows the file is refused). Nothing is
 * written when a check fails. Refuses to overwrite the input. With a Transformers.js dtype,
 * `path` is the model folder and the file goes where Transformers.js looks for that dtype (e.g.
 * q4 → `<path>/onnx/model_q4.onnx`).
 */
export async function writeOutput(model: Model, path: string, opts: WriteOutputOptions = {}): Promise<string> {
  const p = await resolveOutput(path, opts);
  const { checkOrtLoads } = await import('@whittle/eval/node');
  const inputBytes = opts.input ? inlineInputBytes(userPath(opts.input), opts.original) : undefined;
  // Up to 1.5 GB of tensors: encode in memory, check, then write the checked bytes.
  if (tensorDataBytes(model.graph) <= PROTOBUF_LIMIT * 0.7) {
    const bytes = writeModel(model);
    if (inputBytes !== undefined && bytes.length > inputBytes) {
      throw new NoCompressionError(`output would be ${bytes.length} bytes, larger than the input's ${inputBytes}; nothing written`, 'output larger than input');
    }
    await checkOrtLoads(bytes, `the output model (not written to ${p})`);
    mkdirSync(dirname(p), { recursive: true });
    await writeFileAtomic(p, bytes);
    return p;
  }
  // Larger: external data; check the written files and remove them when onnxruntime refuses.
  mkdirSync(dirname(p), { recursive: true });
  await writeModelFile(model, p);
  try {
    await checkOrtLoads(p, `the output model ${p} (removed)`);
  } catch (e) {
    await unlink(p).catch(() => {});
    await unlink(externalTarget(p, `${p.split(/[\\/]/).pop()}.data`)).catch(() => {});
    throw e;
  }
  return p;
}
