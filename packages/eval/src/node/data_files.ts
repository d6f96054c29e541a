/** {@link DataFiles} over the local file system (node only). */
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { DataError, type DataFiles } from '../data/index.js';

function missing(path: string, e: unknown): never {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') throw new DataError('no such file or folder; check the path', { file: path }, { cause: e });
  if (code === 'EISDIR') throw new DataError('is a folder, a file was expected', { file: path }, { cause: e });
  if (code === 'ENOTDIR') throw new DataError('is a file, a folder was expected', { file: path }, { cause: e });
  throw new DataError(`cannot read: ${(e as Error).message}`, { file: path }, { cause: e });
}

/** Files and folders on disk; `readRange` reads only the bytes asked for. */
export const nodeDataFiles: DataFiles = {
  async read(path) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      return missing(path, e);
    }
  },
  async readRange(path, offset, length) {
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(path, 'r');
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    } catch (e) {
      return missing(path, e);
    } finally {
      await fh?.close();
    }
  },
  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (e) {
      return missing(path, e);
    }
  },
  async list(dir) {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      return missing(dir, e);
    }
  },
  async isDir(path) {
    try {
      return (await stat(path)).isDirectory();
    } catch (e) {
      return missing(path, e);
    }
  },
};
