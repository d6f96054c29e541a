/**
 * @whittle/onnx/node — ONNX files on disk: external data read from files next to the model
 * (with path-safety checks that resolve symlinks), atomic writes (temp file + fsync + rename).
 * @module
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import type { Model } from '@whittle/graph';
import { ExternalDataError, OnnxFormatError, UnsafePathError } from './errors.js';
import { checkLocation, checkRange, type ExternalDataLoader } from './external.js';
import {
  encodeModel,
  encodeModelUnchecked,
  readModel,
  tensorDataBytes,
  PROTOBUF_LIMIT,
  type EncodedModel,
  type EncodeModelOptions,
  type ExternalDataOptions,
} from './model.js';

export * from './index.js';
export { rewriteModelFile, type RewriteOptions, type RewriteResult } from './node/rewrite_file.js';

function inside(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * A loader reading external data files inside `modelDir`. Refuses locations that are absolute,
 * use `..`, or resolve (symlinks included) outside the folder, and ranges beyond the file end.
 * Call `close()` when done.
 */
export function fileExternalDataLoader(modelDir: string): {
  load: ExternalDataLoader;
  /** Like `load`, into the first `length` bytes of `into` (a reusable buffer). */
  loadInto(location: string, offset: number, length: number, tensorName: string, into: Uint8Array): Uint8Array;
  close(): void;
} {
  const realDir = realpathSync(modelDir);
  const fds = new Map<string, { fd: number; size: number }>();
  const loadInto = (location: string, offset: number, length: number, tensorName: string, into: Uint8Array): Uint8Array => {
    checkLocation(location, tensorName);
    let f = fds.get(location);
    if (!f) {
      const full = resolve(realDir, location);
      let real: string;
      try {
        real = realpathSync(full);
      } catch (e) {
        throw new ExternalDataError(
          `tensor '${tensorName}': external data file '${location}' not found next to the model (${full}); copy it beside the .onnx file`,
          { cause: e },
        );
      }
      if (!inside(realDir, real)) {
        throw new UnsafePathError(
          `tensor '${tensorName}': external data location '${location}' resolves to ${real}, outside the model folder ${realDir}; ` +
            'move the data file into the model folder',
        );
      }
      const fd = openSync(real, 'r');
      f = { fd, size: fstatSync(fd).size };
      fds.set(location, f);
    }
    checkRange(location, offset, length, f.size, tensorName);
    if (into.length < length) throw new ExternalDataError(`tensor '${tensorName}': a ${into.length} byte buffer cannot hold its ${length} bytes`);
    const out = into.subarray(0, length);
    let done = 0;
    while (done < length) {
      const n = readSync(f.fd, out, done, Math.min(length - done, 1 << 30), offset + done);
      if (n <= 0) throw new ExternalDataError(`tensor '${tensorName}': short read from '${location}' at ${offset + done}`);
      done += n;
    }
    return out;
  };
  return {
    load: (location, offset, length, tensorName) => loadInto(location, offset, length, tensorName, new Uint8Array(length)),
    loadInto,
    close: () => {
      for (const { fd } of fds.values()) closeSync(fd);
      fds.clear();
    },
  };
}

export interface ReadModelFileOptions {
  validate?: boolean;
}

/** Read a .onnx file; external data is read from files in the model's folder. */
export async function readModelFile(path: string, opts: ReadModelFileOptions = {}): Promise<Model> {
  const bytes = await readFile(path);
  const loader = fileExternalDataLoader(dirname(resolve(path)));
  try {
    return readModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
      externalData: loader.load,
      ...(opts.validate !== undefined ? { validate: opts.validate } : {}),
    });
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

/** A temp file name next to `target` (same folder, so the final rename is atomic). */
export function tempName(target: string): string {
  return `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
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

/** fsync a folder so renames in it are durable (best effort). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // directories cannot be fsynced on every platform; the renames are still atomic
  }
}

/** Resolve an external data location for writing; refuses unsafe or self-overwriting paths. */
export function externalTarget(modelPath: string, location: string): string {
  checkLocation(location, '(external data file)');
  const dir = dirname(modelPath);
  const realDir = realpathSync(dir);
  const target = resolve(realDir, location);
  let parentReal: string;
  try {
    parentReal = realpathSync(dirname(target));
  } catch (e) {
    throw new ExternalDataError(`external data location '${location}': folder ${dirname(target)} does not exist; create it or use a plain file name`, { cause: e });
  }
  let real = resolve(parentReal, basename(target));
  try {
    real = realpathSync(real);
  } catch {
    // does not exist yet
  }
  if (!inside(realDir, real)) {
    throw new UnsafePathError(`external data location '${location}' resolves to ${real}, outside the model folder ${realDir}`);
  }
  if (real === resolve(realDir, basename(modelPath))) {
    throw new UnsafePathError(`external data location '${location}' is the model file itself; choose another name (e.g. '${basename(modelPath)}.data')`);
  }
  return real;
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
