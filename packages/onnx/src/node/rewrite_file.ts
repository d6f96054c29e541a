/**
 * Streaming rewrite of a model file whose weights are larger than memory: the graph is read with
 * its external data left in place, a transform loads tensors one at a time and writes new ones
 * piecewise to the output data file, untouched tensors are copied across in chunks, and the
 * output model and data file appear atomically (temp files, fsync, rename). Peak memory is the
 * transform's working set, not the model's size.
 */
import { closeSync, fsyncSync, openSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { type ExternalTensorRef, type Graph, type Model, type RawTensor, type TensorStreamIO, subgraphsOf } from '@whittle/graph';
import { ExternalDataError, OnnxFormatError, UnsafePathError } from '../errors.js';
import { encodeModel, readModel } from '../model.js';
import { externalTarget, fileExternalDataLoader, syncDir, tempName } from './files.js';

/** Options of {@link rewriteModelFile}. */
export interface RewriteOptions {
  /** External data file of the output, relative to its folder. Default `<output file>.data`. */
  dataLocation?: string;
  /** Bytes per piece when copying untouched tensors. Default 64 MiB. */
  copyChunkBytes?: number;
}

/** What a rewrite read and wrote. */
export interface RewriteResult {
  /** Bytes of external tensor data the input referenced. */
  inputDataBytes: number;
  /** Size of the output data file. */
  outputDataBytes: number;
  /** Unloaded tensors copied unchanged. */
  copiedTensors: number;
}

const ALIGN = 64;

function* deferred(g: Graph): Generator<[Graph, string, RawTensor]> {
  for (const [name, t] of g.rawInitializers) if (t.external) yield [g, name, t];
  for (const n of g.nodes) for (const sg of subgraphsOf(n)) yield* deferred(sg);
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Read `input` without loading its external data, let `transform` change the model through a
 * {@link TensorStreamIO}, and write the result to `output` with all tensor data in one external
 * file. Refuses to write over the input or any file it references. On failure nothing is left.
 */
export async function rewriteModelFile(
  input: string,
  output: string,
  transform: (model: Model, io: TensorStreamIO) => Promise<unknown> | void,
  opts: RewriteOptions = {},
): Promise<RewriteResult> {
  const src = realOrSelf(resolve(input));
  const target = resolve(output);
  const location = opts.dataLocation ?? `${basename(target)}.data`;
  const dataTarget = externalTarget(target, location);
  const model = readModel(new Uint8Array(await readFile(src)), { deferExternal: true });
  const srcDir = dirname(src);
  const inputFiles = new Set([src]);
  let inputDataBytes = 0;
  for (const [, , t] of deferred(model.graph)) {
    inputFiles.add(realOrSelf(resolve(srcDir, t.external!.location)));
    inputDataBytes += t.external!.length;
  }
  for (const p of [realOrSelf(target), dataTarget]) {
    if (inputFiles.has(p)) throw new UnsafePathError(`rewriteModelFile: ${p} is the input model or one of its data files; write somewhere else (inputs are never modified)`);
  }

  const loader = fileExternalDataLoader(srcDir);
  const dataTemp = tempName(dataTarget);
  const fd = openSync(dataTemp, 'wx');
  let pos = 0;
  let fdOpen = true;
  const produced = new WeakSet<ExternalTensorRef>();
  const put = (bytes: Uint8Array): void => {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, pos + done);
    pos += bytes.length;
  };
  const io: TensorStreamIO = {
    load(t, name, into) {
      if (!t.external) throw new ExternalDataError(`tensor '${name}': not an unloaded external tensor`);
      const { location: loc, offset, length } = t.external;
      return loader.loadInto(loc, offset, length, name, into ?? new Uint8Array(length));
    },
    dataFile(t, name) {
      if (!t.external) throw new ExternalDataError(`tensor '${name}': not an unloaded external tensor`);
      return loader.pathOf(t.external.location, name);
    },
    begin() {
      const pad = (ALIGN - (pos % ALIGN)) % ALIGN;
      if (pad) put(new Uint8Array(pad));
      const start = pos;
      let finished = false;
      return {
        write: (bytes) => {
          if (finished) throw new OnnxFormatError('rewriteModelFile: write after finish()');
          put(bytes);
        },
        finish: () => {
          finished = true;
          const ref = { location, offset: start, length: pos - start };
          produced.add(ref);
          return ref;
        },
      };
    },
  };
  try {
    await transform(model, io);
    // tensors the transform left alone move to the output data file, a chunk at a time
    let chunk: Uint8Array | undefined;
    let copiedTensors = 0;
    for (const [g, name, t] of [...deferred(model.graph)]) {
      if (produced.has(t.external!)) continue;
      chunk ??= new Uint8Array(Math.min(opts.copyChunkBytes ?? 64 * 2 ** 20, Math.max(1, inputDataBytes)));
      const w = io.begin();
      const { location: loc, offset, length } = t.external!;
      for (let o = 0; o < length; o += chunk.length) {
        const n = Math.min(chunk.length, length - o);
        w.write(loader.loadInto(loc, offset + o, n, name, chunk));
      }
      g.rawInitializers.set(name, { ...t, external: w.finish() });
      copiedTensors++;
    }
    fsyncSync(fd);
    closeSync(fd);
    fdOpen = false;
    const encoded = encodeModel(model, { keepExternalRefs: true });
    const modelTemp = tempName(target);
    let dataMoved = false;
    try {
      await writeFile(modelTemp, encoded.model, { flag: 'wx', flush: true });
      // no tensor went to external data: the model stands alone, with no empty data file beside it
      if (pos > 0) {
        await rename(dataTemp, dataTarget);
        dataMoved = true;
      } else await unlink(dataTemp);
      await rename(modelTemp, target);
    } catch (e) {
      await unlink(modelTemp).catch(() => undefined);
      // a data file without its model (e.g. the output path is a directory) is no output at all
      if (dataMoved) await unlink(dataTarget).catch(() => undefined);
      throw e;
    }
    await syncDir(dirname(target));
    return { inputDataBytes, outputDataBytes: pos, copiedTensors };
  } catch (e) {
    if (fdOpen) closeSync(fd);
    try {
      unlinkSync(dataTemp);
    } catch {
      // already renamed or never created
    }
    throw e;
  } finally {
    loader.close();
  }
}
