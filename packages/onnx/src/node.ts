/**
 * @whittle/onnx/node — ONNX files on disk: external data read from files next to the model
 * (with path-safety checks that resolve symlinks), atomic writes (temp file + fsync + rename).
 * @module
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Model } from '@whittle/graph';
import { OnnxFormatError } from './errors.js';
import {
  encodeModel,
  encodeModelUnchecked,
  readModel,
  tensorDataBytes,
  PROTOBUF_LIMIT,
  type EncodedModel,
  type EncodeModelOptions,
  type ExternalDataOptions,
  type ReadModelOptions,
} from './model.js';
import { externalTarget, fileExternalDataLoader, syncDir, tempName } from './node/files.js';

export * from './index.js';
export { rewriteModelFile, type RewriteOptions, type RewriteResult } from './node/rewrite_file.js';
export { externalTarget, fileExternalDataLoader, syncDir, tempName } from './node/files.js';


export interface ReadModelFileOptions {
  validate?: boolean;
  /** Inline model-local function calls (default true; see ReadModelOptions.inlineFunctions). */
  inlineFunctions?: boolean;
  /** Told what inlining did (see ReadModelOptions.onFunctionsInlined). */
  onFunctionsInlined?: ReadModelOptions['onFunctionsInlined'];
  /** Told which graphs were put into topological order (see ReadModelOptions.onNodesSorted). */
  onNodesSorted?: ReadModelOptions['onNodesSorted'];
}

/** Read a .onnx file; external data is read from files in the model's folder. */
export async function readModelFile(path: string, opts: ReadModelFileOptions = {}): Promise<Model> {
  const bytes = await readFile(path);
  const loader = fileExternalDataLoader(dirname(resolve(path)));
  try {
    return readModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
      externalData: loader.load,
      // the file bytes and the loader's buffers belong to this call: tensors view them, unaligned
      // payloads moved in place rather than copied into fresh memory
      viewBytes: 'align-in-place',
      ...(opts.validate !== undefined ? { validate: opts.validate } : {}),
      ...(opts.inlineFunctions !== undefined ? { inlineFunctions: opts.inlineFunctions } : {}),
      ...(opts.onFunctionsInlined ? { onFunctionsInlined: opts.onFunctionsInlined } : {}),
      ...(opts.onNodesSorted ? { onNodesSorted: opts.onNodesSorted } : {}),
    });
  } catch (e) {
    // the bytes' error, named with the file they came from
    if (e instanceof OnnxFormatError && !e.message.includes(path)) throw new OnnxFormatError(`${path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    loader.close();
  }
}

export interface WriteModelFileOptions extends Omit<EncodeModelOptions, 'externalData'> {
  /**
   * Put tensors of at least `sizeThreshold` bytes (default 1024) in one file `location` next to
   * the model. Models over the 2 GiB protobuf limit get `<model file>.data` automatically.
   */
  externalData?: ExternalDataOptions;
}


async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    for (const c of chunks) {
      let done = 0;
      while (done < c.length) {
        const { bytesWritten } = await fh.write(c, done, Math.min(c.length - done, 1 << 30));
        done += bytesWritten;
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}


/**
 * Write a model file atomically (temp file in the same folder, fsync, rename); with external
 * data, the data file is written the same way first. On failure no output file is left behind.
 */
export async function writeModelFile(model: Model, path: string, opts: WriteModelFileOptions = {}): Promise<void> {
  const target = resolve(path);
  const limit = opts.maxProtobufBytes ?? PROTOBUF_LIMIT;
  // Encode fully in memory first: an encoding error leaves no file behind.
  let external = opts.externalData;
  let encoded: EncodedModel | undefined;
  if (!external && tensorDataBytes(model.graph) <= limit) {
    encoded = encodeModelUnchecked(model, opts);
    if (encoded.model.length > limit) encoded = undefined;
  }
  if (!encoded) external ??= { location: `${basename(target)}.data`, sizeThreshold: 1024 };
  const extTarget = external ? externalTarget(target, external.location) : undefined;
  encoded ??= encodeModel(model, { ...opts, ...(external ? { externalData: external } : {}) });
  const temps: string[] = [];
  try {
    let extTemp: string | undefined;
    if (encoded.externalData && extTarget) {
      extTemp = tempName(extTarget);
      temps.push(extTemp);
      await writeChunks(extTemp, encoded.externalData.chunks);
    }
    const modelTemp = tempName(target);
    temps.push(modelTemp);
    await writeChunks(modelTemp, [encoded.model]);
    if (extTemp && extTarget) {
      await rename(extTemp, extTarget);
      temps.splice(temps.indexOf(extTemp), 1, extTarget); // undo it if the model rename fails
    }
    await rename(modelTemp, target);
    temps.length = 0;
    await syncDir(dirname(target));
  } catch (e) {
    for (const t of temps) await unlink(t).catch(() => undefined);
    if (e instanceof OnnxFormatError) throw e;
    throw new OnnxFormatError(`writeModelFile: could not write ${target}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Write any file atomically (temp file in the same folder, fsync, rename): readers see the old
 * content or the new, never a partial file; on failure nothing is left behind. Used for reports
 * and model cards written next to models.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const target = resolve(path);
  const temp = tempName(target);
  try {
    await writeChunks(temp, [typeof data === 'string' ? new TextEncoder().encode(data) : data]);
    await rename(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(target));
}
