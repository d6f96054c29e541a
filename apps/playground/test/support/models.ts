/**
 * The models the scale tests and the playground bench open: a torchvision MobileNetV2 export
 * (3.5 M parameters, 14 MB) and a BERT-like transformer encoder with token ids (>= 25 M
 * parameters, ~100 MB), both built in code by @whittle/testing's exporter fixtures.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeModel, writeModel } from '@whittle/onnx';
import { torchTransformerEncoder, torchvisionMobilenetV2 } from '@whittle/testing/exporters';

export interface BuiltModel {
  name: string;
  /** The .onnx file. */
  path: string;
  /** Every file to open: the .onnx and its external data file, if any. */
  files: string[];
  bytes: number;
  parameters: number;
}

function save(dir: string, name: string, bytes: Uint8Array, parameters: number): BuiltModel {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, bytes);
  return { name, path, files: [path], bytes: bytes.length, parameters };
}

const paramsOf = (m: ReturnType<typeof torchvisionMobilenetV2>): number => [...m.graph.initializers.values()].reduce((s, t) => s + t.size, 0);

/**
 * torchvision mobilenet_v2 (width 1, 1000 classes) at a small input size (64 × 64 keeps forward
 * passes short; the weights are the same); `external`: weights in `mobilenet_v2.onnx.data`.
 */
export function writeMobilenet(dir: string, opts: { size?: number; external?: boolean } = {}): BuiltModel {
  const size = opts.size ?? 64;
  const m = torchvisionMobilenetV2({ seed: 1, height: size, widthPx: size });
  if (!opts.external) return save(dir, 'mobilenet_v2', writeModel(m), paramsOf(m));
  const location = 'mobilenet_v2.onnx.data';
  const enc = encodeModel(m, { externalData: { location } });
  const built = save(dir, 'mobilenet_v2', enc.model, paramsOf(m));
  const data = join(dir, location);
  writeFileSync(data, Buffer.concat(enc.externalData!.chunks));
  return { ...built, files: [built.path, data], bytes: built.bytes + enc.externalData!.size };
}

const transformerConfig = (opts: { layers?: number; dModel?: number; ffn?: number }) => ({ seed: 2, layers: opts.layers ?? 8, dModel: opts.dModel ?? 512, heads: 8, ffn: opts.ffn ?? 2048, vocab: 1000, maxPositions: 64 });

/** BERT-like encoder: 8 layers, d 512, FFN 2048, 8 heads, 1000-token vocabulary: 25.8 M parameters. */
export function writeTransformer(dir: string, opts: { layers?: number; dModel?: number; ffn?: number } = {}): BuiltModel {
  const m = torchTransformerEncoder(transformerConfig(opts));
  return save(dir, 'bert_encoder', writeModel(m), paramsOf(m));
}

/** Hash of the transformer exporter's sources (the files next to it: its helpers), so a changed builder gets a new cache entry. */
function exporterHash(): string {
  const file = createRequire(import.meta.url).resolve('@whittle/testing/exporters');
  const h = createHash('sha256');
  for (const f of ['transformer.ts', 'common.ts']) h.update(readFileSync(join(dirname(file), f)));
  return h.digest('hex').slice(0, 12);
}

/**
 * {@link writeTransformer} into a folder of the OS temp dir named by its configuration and the
 * exporter's source hash, built only when that folder has none yet (building and encoding 100 MB
 * takes seconds): the file is written under a temporary name and renamed, so a concurrent or
 * killed run never leaves half a model behind.
 */
export function cachedTransformer(opts: { layers?: number; dModel?: number; ffn?: number } = {}): BuiltModel {
  const c = transformerConfig(opts);
  const dir = join(tmpdir(), `whittle-bert-encoder-${Object.values(c).join('-')}-${exporterHash()}`);
  const meta = join(dir, 'model.json');
  if (existsSync(meta)) {
    const built = JSON.parse(readFileSync(meta, 'utf8')) as BuiltModel;
    if (existsSync(built.path)) return built;
  }
  const tmp = join(dir, `tmp-${process.pid}`);
  const built = writeTransformer(tmp, opts);
  const path = join(dir, 'bert_encoder.onnx');
  renameSync(built.path, path);
  rmSync(tmp, { recursive: true, force: true });
  const done = { ...built, path, files: [path] };
  writeFileSync(`${meta}.${process.pid}`, JSON.stringify(done));
  renameSync(`${meta}.${process.pid}`, meta);
  return done;
}
