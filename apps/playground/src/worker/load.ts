import { ExternalDataError, PROTOBUF_LIMIT, readModel, writeModel } from '@whittle/onnx';
import { analyzeModel } from './analyze.js';
import type { LoadResult } from './protocol.js';

/**
 * Open picked or dropped files in the worker, so a 100 MB+ model never blocks the page: the one
 * .onnx file, with the other files as its external data (by file name, as the model's
 * `location` fields name them). A model with external data is re-encoded with its tensors
 * inline, so every later job gets one self-contained byte array.
 */
export async function loadFiles(files: readonly File[], onProgress: (f: number, m: string) => void): Promise<LoadResult> {
  const models = files.filter((f) => /\.onnx$/i.test(f.name));
  if (models.length !== 1) {
    throw new ExternalDataError(models.length ? `${models.length} .onnx files were given (${models.map((f) => f.name).join(', ')}); open one model at a time, with its external data files` : `no .onnx file among ${files.map((f) => f.name).join(', ')}`);
  }
  const file = models[0]!;
  onProgress(0, `reading ${file.name}`);
  let bytes: Uint8Array = new Uint8Array(await file.arrayBuffer());
  const external = new Map<string, Uint8Array>();
  for (const f of files) if (f !== file) external.set(f.name, new Uint8Array(await f.arrayBuffer()));
  onProgress(0.05, `parsing ${file.name}`);
  const model = readModel(bytes, external.size ? { externalData: external } : {});
  const used: string[] = [];
  if (external.size) {
    const total = bytes.length + [...external.values()].reduce((s, b) => s + b.length, 0);
    if (total >= PROTOBUF_LIMIT) throw new ExternalDataError(`${file.name} with its external data is ${total} bytes; the page keeps models in one protobuf (< 2 GB). Use the CLI for models this size.`);
    used.push(...external.keys());
    onProgress(0.1, 'inlining external data');
    bytes = writeModel(model);
  }
  const analysis = await analyzeModel(bytes, (f, m) => onProgress(0.1 + 0.9 * f, m), model);
  return { name: file.name.replace(/\.onnx$/i, ''), bytes, analysis, externalFiles: used };
}
