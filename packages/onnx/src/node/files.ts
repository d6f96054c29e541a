/**
 * File helpers of the node entry, shared by it and by node/rewrite_file.ts (which the entry
 * re-exports): the external-data loader with its path-safety checks, temp names next to a target,
 * folder fsync, safe external-data targets. Re-exported from `@whittle/onnx/node`.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import { ExternalDataError, UnsafePathError } from '../errors.js';
import { checkLocation, checkRange, type ExternalDataLoader } from '../external.js';
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
  /** The checked real path of `location` (for readers on other threads). */
  pathOf(location: string, tensorName: string): string;
  close(): void;
} {
  const realDir = realpathSync(modelDir);
  const fds = new Map<string, { fd: number; size: number; real: string }>();
  const fileOf = (location: string, tensorName: string): { fd: number; size: number; real: string } => {
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
      f = { fd, size: fstatSync(fd).size, real };
      fds.set(location, f);
    }
    return f;
  };
  const loadInto = (location: string, offset: number, length: number, tensorName: string, into: Uint8Array): Uint8Array => {
    const f = fileOf(location, tensorName);
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
    pathOf: (location, tensorName) => fileOf(location, tensorName).real,
    close: () => {
      for (const { fd } of fds.values()) closeSync(fd);
      fds.clear();
    },
  };
}

/** A temp file name next to `target` (same folder, so the final rename is atomic). */
export function tempName(target: string): string {
  return `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
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
