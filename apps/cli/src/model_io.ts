import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
// @whittle/eval (and with it onnxruntime-node) is imported when a model is written, not at
// start-up: `whittle inspect` reads models only (see `pnpm bench cli`).
import type { TransformersJsDtype } from '@whittle/eval';
import { NoCompressionError, type Model, graphScopes, weightBytes } from '@whittle/graph';
import { PROTOBUF_LIMIT, externalTarget, readModel, readModelFile, tensorDataBytes, writeFileAtomic, writeModel, writeModelFile } from '@whittle/onnx/node';
import { UsageError } from './errors.js';
import { noteFolderShapes } from './folder_shapes.js';

/**
 * Resolve a user path against the directory the command was typed in. Only when whittle runs as
 * this package's own pnpm/npm script (`pnpm whittle …`, `pnpm demo`) is that INIT_CWD rather than
 * the process's cwd; an installed `whittle` started by another project's script uses its cwd.
 */
export function userPath(p: string): string {
  const viaOwnScript = process.env.npm_package_name === 'whittle' && process.env.INIT_CWD;
  return resolve(viaOwnScript ? process.env.INIT_CWD! : process.cwd(), p);
}

/** Refuse an input model path that is missing or not a file (a UsageError naming it); returns the resolved path. */
export function checkInputFile(path: string): string {
  const p = userPath(path);
  if (!existsSync(p)) throw new UsageError(`input model '${path}' does not exist`);
  if (!statSync(p).isFile()) throw new UsageError(`input model '${path}' is not a file`);
  return p;
}

/** Read an input model, naming the path when it is missing or not a file. */
export async function readInput(path: string, opts: Parameters<typeof readModelFile>[1] = {}): Promise<Model> {
  const file = checkInputFile(path);
  const model = await readModelFile(file, opts);
  noteFolderShapes(model, file);
  return model;
}

/** Options of {@link writeOutput}. */
export interface WriteOutputOptions {
  /** The input file: never overwritten, and the output must not be larger than it. */
  input?: string | undefined;
  /** The model read from `input` (to tell whether the input file holds its weights inline). */
  original?: Model | undefined;
  /** Transformers.js dtype: `path` is then the model folder. */
  transformersJs?: string | undefined;
  /**
   * A further check of the output after onnxruntime loads it (the encoded bytes, or the written
   * file for models with external data): throwing refuses the output, and nothing is left written.
   */
  verify?: ((output: Uint8Array | string, what: string) => Promise<void>) | undefined;
}

/** Size of the input file when it holds its weights inline (no external data), else undefined. */
function inlineInputBytes(path: string, original: Model | undefined): number | undefined {
  const size = statSync(path).size;
  return original && size >= weightBytes(original) ? size : undefined;
}

/** Real paths of a model file and of the external data files it references (read without loading the data). */
function inputFiles(model: string): Set<string> {
  const files = new Set<string>();
  if (!existsSync(model)) return files;
  const real = realpathSync(model);
  files.add(real);
  try {
    const m = readModel(new Uint8Array(readFileSync(real)), { deferExternal: true });
    for (const { graph } of graphScopes(m.graph)) {
      for (const t of graph.rawInitializers.values()) {
        const at = t.external && resolve(dirname(real), t.external.location);
        if (at && existsSync(at)) files.add(realpathSync(at));
      }
    }
  } catch {
    // an unreadable input is refused when it is read, with its own message
  }
  return files;
}

/** The nearest existing ancestor of `p` that is not a directory, if any (a file where a folder must go). */
function fileInTheWay(p: string): string | undefined {
  for (let d = dirname(p); d !== dirname(d); d = dirname(d)) {
    if (existsSync(d)) return statSync(d).isDirectory() ? undefined : d;
  }
  return undefined;
}

/**
 * Refuse an output path that cannot be written: the input model itself, an existing directory,
 * or a path under an existing file. Commands call this before any work, so a bad `-o` fails in
 * a second, not after minutes of compression.
 */
export function checkOutputPath(path: string, file: string, input?: string): void {
  if (!path.trim()) throw new UsageError('output path is empty; give the path of the .onnx file to write');
  if (input && userPath(input) === file) throw new UsageError(`output '${path}' is the input model; choose another path (inputs are never modified)`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`output '${path}' is a directory; give the path of the .onnx file to write`);
  // an existing file may be the input under another name (a symlink) or one of its external data files
  if (input && existsSync(file) && inputFiles(userPath(input)).has(realpathSync(file))) {
    throw new UsageError(`output '${path}' is the input model or one of its external data files; choose another path (inputs are never modified)`);
  }
  const blocker = fileInTheWay(file);
  if (blocker) throw new UsageError(`output '${path}' cannot be written: '${blocker}' is a file, not a directory`);
}

async function resolveOutput(path: string, opts: WriteOutputOptions): Promise<string> {
  let p = userPath(path);
  if (opts.transformersJs) {
    const { parseTransformersJsFileName, transformersJsPath } = await import('@whittle/eval');
    // a sub-model of a Transformers.js folder (…/onnx/encoder_model_quantized.onnx) keeps its
    // stem: Whisper's encoder loads from encoder_model_q4.onnx, not model_q4.onnx
    const input = opts.input ? userPath(opts.input) : undefined;
    const stem = input && basename(dirname(input)) === 'onnx' ? parseTransformersJsFileName(basename(input))?.stem : undefined;
    p = join(p, transformersJsPath(opts.transformersJs as TransformersJsDtype, stem ?? 'model'));
  }
  checkOutputPath(path, p, opts.input);
  return p;
}

/** Check `-o` before a command does its work (see {@link checkOutputPath}); throws a UsageError. */
export async function checkOutput(path: string, opts: WriteOutputOptions = {}): Promise<void> {
  await resolveOutput(path, opts);
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
    await opts.verify?.(bytes, `the output model (not written to ${p})`);
    mkdirSync(dirname(p), { recursive: true });
    await writeFileAtomic(p, bytes);
    return p;
  }
  // Larger: external data; check the written files and remove them when onnxruntime refuses.
  mkdirSync(dirname(p), { recursive: true });
  await writeModelFile(model, p);
  try {
    await checkOrtLoads(p, `the output model ${p} (removed)`);
    await opts.verify?.(p, `the output model ${p} (removed)`);
  } catch (e) {
    await unlink(p).catch(() => {});
    await unlink(externalTarget(p, `${p.split(/[\\/]/).pop()}.data`)).catch(() => {});
    throw e;
  }
  return p;
}
