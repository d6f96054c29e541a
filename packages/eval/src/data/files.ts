/**
 * File access for readers, browser-safe: the node implementation is `nodeDataFiles` in
 * `@whittle/eval/node`; {@link memoryFiles} serves files held in memory (a browser's picked
 * files, tests). Paths use '/' separators.
 */
import { DataError } from './errors.js';

/** One entry of a folder. */
export interface DataFileEntry {
  name: string;
  dir: boolean;
}

/** What readers need from a file system. */
export interface DataFiles {
  /** The whole file. */
  read(path: string): Promise<Uint8Array>;
  /** Bytes [offset, offset + length) of a file (fewer at its end); lets big arrays be read batch by batch. */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Size in bytes. */
  size(path: string): Promise<number>;
  /** Entries of a folder, sorted by name. */
  list(dir: string): Promise<DataFileEntry[]>;
  /** Whether `path` is a folder (false for files; a {@link DataError} when missing). */
  isDir(path: string): Promise<boolean>;
}

/** `a/b` joined ('/' separators). */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/+/g, '/');
}

/** File name of a path. */
export function baseName(path: string): string {
  const p = path.replace(/[\\/]+$/, '');
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

/** Folder of a path ('' for a bare name). */
export function dirName(path: string): string {
  const p = path.replace(/[\\/]+$/, '');
  const k = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return k < 0 ? '' : p.slice(0, k);
}

/** Files held in memory, by path ('a/b/c.npy'); folders are implied by the paths. */
export function memoryFiles(files: Readonly<Record<string, Uint8Array>>): DataFiles {
  const norm = (p: string): string => p.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  const byPath = new Map(Object.entries(files).map(([p, b]) => [norm(p), b]));
  const get = (path: string): Uint8Array => {
    const b = byPath.get(norm(path));
    if (!b) throw new DataError(`no such file; check the path`, { file: path });
    return b;
  };
  const entries = (dir: string): DataFileEntry[] => {
    const d = norm(dir);
    const prefix = d === '' || d === '.' ? '' : `${d}/`;
    const seen = new Map<string, boolean>();
    for (const p of byPath.keys()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const k = rest.indexOf('/');
      const name = k < 0 ? rest : rest.slice(0, k);
      seen.set(name, k >= 0 || (seen.get(name) ?? false));
    }
    return [...seen].map(([name, dir]) => ({ name, dir })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };
  return {
    read: async (path) => get(path),
    readRange: async (path, offset, length) => get(path).subarray(offset, offset + length),
    size: async (path) => get(path).length,
    list: async (dir) => {
      const e = entries(dir);
      if (!e.length) throw new DataError(`no such folder or an empty one`, { file: dir });
      return e;
    },
    isDir: async (path) => {
      if (byPath.has(norm(path))) return false;
      if (entries(path).length) return true;
      throw new DataError(`no such file or folder; check the path`, { file: path });
    },
  };
}

/**
 * Lines of a text file read in blocks of `blockBytes` (default 1 MiB), so a large JSONL file is
 * never held whole. Yields `[lineNumber (1-based), text]`; a trailing '\r' is dropped.
 */
export async function* readLines(files: DataFiles, path: string, blockBytes = 1 << 20): AsyncGenerator<[number, string]> {
  const total = await files.size(path);
  const decoder = new TextDecoder();
  let carry = '';
  let line = 0;
  for (let off = 0; off < total; off += blockBytes) {
    const bytes = await files.readRange(path, off, Math.min(blockBytes, total - off));
    carry += decoder.decode(bytes, { stream: off + blockBytes < total });
    const parts = carry.split('\n');
    carry = parts.pop()!;
    for (const p of parts) yield [++line, p.endsWith('\r') ? p.slice(0, -1) : p];
  }
  carry += decoder.decode();
  if (carry !== '') yield [++line, carry.endsWith('\r') ? carry.slice(0, -1) : carry];
}
