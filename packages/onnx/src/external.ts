import { ExternalDataError, UnsafePathError } from './errors.js';

/**
 * Supplies external tensor data: `length` bytes at `offset` of the file `location` (a path
 * relative to the model's folder, already checked to be safe). Must throw an
 * {@link ExternalDataError} (or {@link UnsafePathError}) when it cannot.
 */
export type ExternalDataLoader = (location: string, offset: number, length: number, tensorName: string) => Uint8Array;

/** Where external data comes from on read: a loader function, or a Map of location → file bytes. */
export type ExternalDataSource = ExternalDataLoader | ReadonlyMap<string, Uint8Array>;

/**
 * Refuse a location that is empty, absolute (`/x`, `\\x`, `C:x`), has a `..` segment or a NUL
 * byte. Purely lexical; the node entry also resolves symlinks (realpath) against the model folder.
 */
export function checkLocation(location: string, tensorName: string): void {
  const bad = (why: string): never => {
    throw new UnsafePathError(
      `tensor '${tensorName}': external data location '${location}' ${why}; ` +
        'external data must be a file inside the model\'s folder, given as a relative path without ".."',
    );
  };
  if (location.length === 0) bad('is empty');
  if (location.includes('\0')) bad('contains a NUL byte');
  if (location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location)) bad('is absolute');
  if (location.split(/[\\/]/).includes('..')) bad('contains ".."');
}

/** Check that [offset, offset + length) lies inside a file of `size` bytes. */
export function checkRange(location: string, offset: number, length: number, size: number, tensorName: string): void {
  if (offset + length > size) {
    throw new ExternalDataError(
      `tensor '${tensorName}': external data [${offset}, ${offset + length}) lies beyond the end of ` +
        `'${location}' (${size} bytes); the data file is truncated or belongs to another model`,
    );
  }
}

/** Turn a source (loader or map) into a loader. */
export function toLoader(source: ExternalDataSource | undefined): ExternalDataLoader {
  if (typeof source === 'function') return source;
  return (location, offset, length, tensorName) => {
    const file = source?.get(location);
    if (!file) {
      throw new ExternalDataError(
        `tensor '${tensorName}': external data file '${location}' was not provided; ` +
          (source ? 'add it to the externalData map' : 'pass readModel(bytes, { externalData }) or use readModelFile from @whittle/onnx/node'),
      );
    }
    checkRange(location, offset, length, file.length, tensorName);
    return file.subarray(offset, offset + length);
  };
}

/** Collects tensor bytes that go to one external file while a model is written. */
export class ExternalDataSink {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  constructor(
    readonly location: string,
    readonly sizeThreshold: number,
    readonly alignment = 64,
  ) {
    checkLocation(location, '(external data file)');
  }
  /** Append bytes; returns the offset they were stored at. */
  append(bytes: Uint8Array): number {
    const pad = (this.alignment - (this.size % this.alignment)) % this.alignment;
    if (pad) {
      this.chunks.push(new Uint8Array(pad));
      this.size += pad;
    }
    const offset = this.size;
    this.chunks.push(bytes);
    this.size += bytes.length;
    return offset;
  }
}
