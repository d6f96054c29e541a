/**
 * Decoders larger than protobuf's 2 GB: {@link buildDecoderLm} with every weight appended to an
 * external data file as it is drawn, so memory holds one tensor at a time and the .onnx file only
 * references. For scale tests of streaming passes (random weights; sizes are what matter).
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeModel } from '@whittle/onnx';
import { type DecoderLmConfig, type DecoderLmOptions, decoderLmConfig, decoderLmParameterCount } from './config.js';
import { buildDecoderLm } from './decoder.js';
import { LM_CACHE_DIR } from './large.js';

/** A decoder written with external data. */
export interface ExternalDecoderLm {
  /** The .onnx file; its data is `<modelPath>.data` beside it. */
  modelPath: string;
  dataPath: string;
  config: DecoderLmConfig;
  parameters: number;
  /** Bytes of the external data file. */
  dataBytes: number;
  /** Bytes of the largest weight (the token table or the MLP matrices). */
  largestTensor: number;
}

const ALIGN = 64;

/**
 * Write the decoder of `options` to `path` (+ `path.data`), one weight at a time. Both files are
 * written under temporary names and renamed, the data file first, so a reader that sees the .onnx
 * also sees complete data.
 */
export function writeDecoderLmExternal(options: DecoderLmOptions, path: string): ExternalDecoderLm {
  const dataPath = `${path}.data`;
  const location = basename(dataPath);
  const stamp = `${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(`${dataPath}.${stamp}`, 'w');
  let pos = 0;
  let largestTensor = 0;
  try {
    const { model, config } = buildDecoderLm(options, (_name, values) => {
      pos += (ALIGN - (pos % ALIGN)) % ALIGN;
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, pos + done);
      const ref = { location, offset: pos, length: bytes.length };
      pos += bytes.length;
      largestTensor = Math.max(largestTensor, bytes.length);
      return ref;
    });
    closeSync(fd);
    renameSync(`${dataPath}.${stamp}`, dataPath);
    writeFileSync(`${path}.${stamp}`, encodeModel(model, { keepExternalRefs: true }).model);
    renameSync(`${path}.${stamp}`, path);
    return { modelPath: path, dataPath, config, parameters: decoderLmParameterCount(config), dataBytes: pos, largestTensor };
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    throw e;
  }
}

/**
 * The decoder of `options` with external data in the cache folder (`WHITTLE_LM_CACHE`, else
 * `<os tmp>/whittle-lm`), generated when missing (seeded: the same bytes every time).
 */
export function externalDecoderLmPath(options: DecoderLmOptions, dir = LM_CACHE_DIR): ExternalDecoderLm {
  const c = decoderLmConfig(options);
  const path = join(dir, `lm-ext-l${c.layers}-d${c.dModel}-h${c.heads}-v${c.vocab}-p${c.maxPositions}-f${c.ffn}-s${options.seed}.onnx`);
  const dataPath = `${path}.data`;
  if (existsSync(path) && existsSync(dataPath)) {
    const tensors = [c.vocab * c.dModel, c.maxPositions * c.dModel, c.dModel * c.ffn];
    return { modelPath: path, dataPath, config: c, parameters: decoderLmParameterCount(c), dataBytes: statSync(dataPath).size, largestTensor: 4 * Math.max(...tensors) };
  }
  mkdirSync(dir, { recursive: true });
  return writeDecoderLmExternal(options, path);
}
