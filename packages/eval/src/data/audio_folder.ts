/**
 * A `.wav` file or a folder of them (searched recursively): each file decoded to mono floats at
 * the model's sample rate and cut into windows of samples, one window per sample. Labels come
 * from class subfolders (`yes/1.wav`, `no/2.wav`; classes sorted by name unless given, numbered folders are those class indices), as for
 * image folders; none for files directly inside. The model's other inputs are constants: a
 * sample-rate input (`sr`, `sample_rate`, `sampling_rate`) gets the rate, everything else zeros
 * (recurrent state) or ones (an integer attention mask), made by the synthetic source's fixed
 * `values`.
 */
import { type DType, allocStorage } from '@whittle/tensor';
import { type FolderClasses, folderClasses, skippedFolder } from './class_folders.js';
import { DataError } from './errors.js';
import { type DataFiles, joinPath } from './files.js';
import { MASK_NAME } from './input_names.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { sizeOfShape } from './source.js';
import { syntheticSource } from './synthetic.js';
import { type WavInfo, decodeWav, readWavInfo, resampledLength, wavEncoding } from './wav.js';

/** Default target sample rate (Hz): what speech models (Silero VAD, openWakeWord, Moonshine, Whisper) take. */
export const AUDIO_SAMPLE_RATE = 16000;

const WAV = /\.wav$/i;
/** Audio formats that are not read (only WAV is): named in errors rather than skipped. */
export const OTHER_AUDIO = /\.(mp3|flac|ogg|oga|opus|m4a|aac|wma|aiff?|webm)$/i;
// what a WAV header needs at most in practice; a file with bigger chunks before its data is read whole
const HEADER_BYTES = 1 << 16;
const WINDOWS_PER_CHUNK = 64;
const FLOATS = new Set(['float32', 'float16', 'bfloat16', 'float64']);
const STATE_NAME = /past|present|cache|state|hidden|(^|[._])(h|c|h0|c0)([._]|$)/i;
const RATE_NAME = /^(sr|sample_?rate|sampling_?rate)$/i;

/** Options of {@link audioSource}. */
export interface AudioOptions {
  /** Model input the samples feed (default: the one float input of rank 2 or 3 that takes a signal). */
  input?: string | undefined;
  /** Rate (Hz) files are resampled to, and what a sample-rate input gets (default {@link AUDIO_SAMPLE_RATE}). */
  sampleRate?: number | undefined;
  /** Samples per window (default: the input's fixed length, else one second: `sampleRate`). */
  length?: number | undefined;
  /** Samples between window starts (default: `length`). */
  stride?: number | undefined;
  /**
   * Keep the last, partial window of a file, zero-padded (default false: dropped). A file shorter
   * than one window is always padded to one window, so no file is skipped.
   */
  pad?: boolean | undefined;
  /** Class names in the model's output order (default: the subfolder names, sorted). */
  classes?: readonly string[] | undefined;
  /**
   * The processor that turns each window into the model's features (a Whisper encoder takes an
   * 80×3000 log-mel spectrogram of 30 s, not samples): it names the input, the rate and the window
   * length it takes; `length` defaults to its window.
   */
  features?: AudioFeatureExtractor | undefined;
}

/**
 * A feature extractor in front of the model (e.g. Transformers.js' WhisperFeatureExtractor, made
 * from the model folder's preprocessor_config.json): samples in, one sample's features out.
 */
export interface AudioFeatureExtractor {
  /** What it computes, for the data description (e.g. 'WhisperFeatureExtractor: 80 log-mel bins × 3000 frames'). */
  description: string;
  /** The model input the features feed. */
  input: string;
  /** Rate (Hz) of the samples it takes. */
  sampleRate: number;
  /** Samples per window it is made for (Whisper: 30 s, 480000), when it has one. */
  samples?: number | undefined;
  /** Shape of one window's features (no batch axis). */
  shape: readonly number[];
  /** The features of one window of samples (`shape` elements). */
  extract(window: Float32Array): Promise<Float32Array>;
}

/** A `.wav` file found for an {@link audioSource}: its path, path relative to the root, and class folder ('' when directly inside). */
export interface AudioFile {
  path: string;
  rel: string;
  cls: string;
}

/** The `.wav` files of a folder and its subfolders (depth first, by name); a `.wav` path is itself. */
export async function listAudio(files: DataFiles, path: string): Promise<AudioFile[]> {
  if (!(await files.isDir(path))) return [{ path, rel: path.split('/').pop() ?? path, cls: '' }];
  const out: AudioFile[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await files.list(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.dir) {
        if (!skippedFolder(e.name)) await walk(joinPath(dir, e.name), r);
      }
      else if (OTHER_AUDIO.test(e.name)) throw new DataError(`${e.name.split('.').pop()!.toUpperCase()} is not read, only WAV; convert it (e.g. ffmpeg -i in -ar 16000 -ac 1 out.wav) or move it out of the folder`, { file: joinPath(dir, e.name) });
      else if (WAV.test(e.name)) out.push({ path: joinPath(dir, e.name), rel: r, cls: rel ? rel.split('/')[0]! : '' });
    }
  };
  await walk(path, '');
  return out;
}

/** Whether a folder or any folder inside it holds a `.wav` file. */
export async function holdsAudio(files: DataFiles, dir: string): Promise<boolean> {
  for (const e of await files.list(dir)) {
    if (e.dir ? await holdsAudio(files, joinPath(dir, e.name)) : WAV.test(e.name)) return true;
  }
  return false;
}

/**
 * Number of windows of `length` samples, `stride` apart, cut from `n` samples: the whole windows,
 * plus the last partial one when `pad`; a signal shorter than one window gives one (padded).
 */
export function audioWindowCount(n: number, length: number, stride: number, pad: boolean): number {
  if (n <= length) return n > 0 ? 1 : 0;
  return (pad ? Math.ceil((n - length) / stride) : Math.floor((n - length) / stride)) + 1;
}

/** How the window's samples sit in one row of the model input: [length], [1, length] or [length, 1]. */
type Layout = 'flat' | 'channels-first' | 'channels-last';

/** The model input that takes the samples, its layout and its fixed length (when fixed). */
function audioInput(inputs: readonly ModelInputSpec[], name: string | undefined, where: string): { spec: ModelInputSpec | undefined; layout: Layout; axis: number } {
  const layoutOf = (s: ModelInputSpec): { layout: Layout; axis: number } | undefined => {
    const sh = s.shape;
    if (!sh) return { layout: 'flat', axis: 1 };
    if (sh.length === 2) return { layout: 'flat', axis: 1 };
    if (sh.length === 3 && sh[1] === 1) return { layout: 'channels-first', axis: 2 };
    if (sh.length === 3 && sh[2] === 1) return { layout: 'channels-last', axis: 1 };
    return undefined;
  };
  const show = (s: ModelInputSpec): string => `'${s.name}'${s.shape ? ` [${s.shape.map((d) => (typeof d === 'number' ? d : d || '?')).join(', ')}]` : ''}`;
  if (name !== undefined) {
    const spec = inputs.find((i) => i.name === name);
    if (!spec) {
      if (inputs.length) throw new DataError(`the model has no input '${name}' (inputs: ${inputs.map((i) => i.name).join(', ')})`, { file: where });
      return { spec: undefined, layout: 'flat', axis: 1 };
    }
    if (spec.elemType !== undefined && !FLOATS.has(spec.elemType)) throw new DataError(`input '${name}' takes ${spec.elemType}; audio samples feed a float input`, { file: where });
    const l = layoutOf(spec);
    if (!l) throw new DataError(`input ${show(spec)} does not take a signal: audio feeds [batch, samples], [batch, 1, samples] or [batch, samples, 1]`, { file: where });
    return { spec, ...l };
  }
  if (!inputs.length) throw new DataError('the model inputs are unknown; name the input the audio feeds (input: in a data spec)', { file: where });
  // a signal input: float, [batch, samples] or with a channel axis of 1; not a recurrent state
  // ([2, batch, 128] is rank 3 too) and not a fixed batch of more than one
  const candidates = inputs.filter((s) => (s.elemType === undefined || FLOATS.has(s.elemType)) && !STATE_NAME.test(s.name) && layoutOf(s) !== undefined && !(typeof s.shape?.[0] === 'number' && s.shape[0] > 1));
  if (candidates.length !== 1) {
    throw new DataError(
      candidates.length
        ? `inputs ${candidates.map(show).join(', ')} could each take the samples; name the one the audio feeds (input: in a data spec)`
        : `no model input takes a signal (a float [batch, samples], [batch, 1, samples] or [batch, samples, 1]); inputs: ${inputs.map(show).join(', ')}`,
      { file: where },
    );
  }
  return { spec: candidates[0]!, ...layoutOf(candidates[0]!)! };
}

/** Whether an input takes the sample rate: a scalar integer named `sr`, `sample_rate` or `sampling_rate`. */
function takesRate(s: ModelInputSpec): boolean {
  return RATE_NAME.test(s.name) && s.elemType !== undefined && /^u?int/.test(s.elemType) && (s.shape?.every((d) => d === 1) ?? false);
}

function positive(what: string, v: number | undefined, where: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new DataError(`audio: ${what} must be a positive integer, got ${JSON.stringify(v)}`, { file: where });
}

/** `a`'s one row repeated `m` times. */
function repeatRow(a: DataArray, m: number): DataArray {
  const per = sizeOfShape(a.shape.slice(1));
  const data = allocStorage(a.dtype, per * m);
  for (let i = 0; i < m; i++) (data as Float32Array).set(a.data.subarray(0, per) as Float32Array, i * per);
  return { data, shape: [m, ...a.shape.slice(1)], dtype: a.dtype };
}

/** The constant feeds of the model's other inputs (one row each), and what they were given. */
async function otherInputs(inputs: readonly ModelInputSpec[], spec: ModelInputSpec, axis: number, length: number, rate: number): Promise<{ rows: Record<string, DataArray>; said: string[] }> {
  const others = inputs.filter((i) => i !== spec);
  if (!others.length) return { rows: {}, said: [] };
  const values: Record<string, number> = {};
  const said: string[] = [];
  for (const o of others) {
    const integer = o.elemType !== undefined && !FLOATS.has(o.elemType);
    if (takesRate(o)) {
      values[o.name] = rate;
      said.push(`${o.name} = ${rate} (the sample rate${o.comparedWith?.length && !o.comparedWith.includes(rate) ? `; the graph compares it with ${o.comparedWith.join(', ')} only` : ''})`);
    } else if (integer && MASK_NAME.test(o.name)) said.push(`${o.name} all ones`);
    else {
      values[o.name] = 0;
      said.push(`${o.name} zeros`);
    }
  }
  // the synthetic source sizes the other inputs' dims as for data-free runs (a batch axis 1, a
  // dim shared with the samples' length that length), and fixes their values
  const dim = spec.shape?.[axis];
  const dims = typeof dim === 'string' && dim !== '' ? { [dim]: length } : {};
  const filler = syntheticSource([{ ...spec, elemType: 'float32' }, ...others], { count: 1, values, dims });
  const rows: Record<string, DataArray> = {};
  for await (const c of filler.chunks()) for (const o of others) rows[o.name] = c.inputs[o.name]!;
  return { rows, said };
}

/** The header of each file (the start of the file only, or all of it when its header is longer). */
async function headerOf(files: DataFiles, f: AudioFile): Promise<WavInfo> {
  const size = await files.size(f.path);
  let info: WavInfo;
  try {
    info = readWavInfo(await files.readRange(f.path, 0, Math.min(size, HEADER_BYTES)), f.path, size);
  } catch (e) {
    // a header longer than the start read (big metadata chunks before the data): read it all
    if (size <= HEADER_BYTES || !(e instanceof DataError) || /truncated/.test(e.message)) throw e;
    info = readWavInfo(await files.read(f.path), f.path);
  }
  if (info.frames === 0) throw new DataError('the WAV file holds no samples', { file: f.path });
  return info;
}

/**
 * Audio windows of `.wav` files as samples of one signal input. Files are read one at a time
 * while iterating; their headers are read when the source is made, so a file that is not WAV
 * (an .mp3 renamed, a truncated header) is refused at once, and the description tells each
 * file's rate and channels and what was done to them.
 */
export async function audioSource(files: DataFiles, path: string, inputs: readonly ModelInputSpec[], opts: AudioOptions = {}): Promise<DataSource> {
  positive('sampleRate', opts.sampleRate, path);
  positive('length', opts.length, path);
  positive('stride', opts.stride, path);
  const fx = opts.features;
  if (fx && opts.sampleRate !== undefined && opts.sampleRate !== fx.sampleRate) throw new DataError(`sampleRate ${opts.sampleRate}: the model's feature extractor takes ${fx.sampleRate} Hz`, { file: path });
  const rate = fx?.sampleRate ?? opts.sampleRate ?? AUDIO_SAMPLE_RATE;
  // with a feature extractor the samples feed it, and its output the model input it names
  const { spec, layout, axis } = fx ? { spec: inputs.find((i) => i.name === fx.input), layout: 'flat' as Layout, axis: -1 } : audioInput(inputs, opts.input, path);
  if (fx && !spec) throw new DataError(`the feature extractor feeds '${fx.input}', which the model does not take (inputs: ${inputs.map((i) => i.name).join(', ')})`, { file: path });
  const name = spec?.name ?? fx?.input ?? opts.input!;
  const fixed = fx ? fx.samples : spec?.shape?.[axis];
  const fixedLength = typeof fixed === 'number' && fixed > 0 ? fixed : undefined;
  if (fixedLength !== undefined && opts.length !== undefined && opts.length !== fixedLength) throw new DataError(`input '${name}' takes windows of ${fixedLength} samples; length ${opts.length} does not fit it`, { file: path });
  const length = opts.length ?? fixedLength ?? rate;
  const lengthWhy = opts.length !== undefined ? '' : fixedLength !== undefined ? (fx ? ` (the feature extractor's window)` : ` (the input's fixed length)`) : ` (1 s at ${rate} Hz: the input's length is dynamic; set length: to change it)`;
  const stride = opts.stride ?? length;
  const pad = opts.pad ?? false;

  const audio = await listAudio(files, path);
  if (!audio.length) throw new DataError('no .wav files here or in its subfolders', { file: path });
  let labels: Int32Array | undefined;
  let folders: FolderClasses | undefined;
  if (audio.every((a) => a.cls !== '')) {
    folders = folderClasses(audio.map((a) => a.cls), opts.classes);
    labels = Int32Array.from(audio, (a, i) => folders!.label(a.cls, a.path, i));
  } else if (audio.some((a) => a.cls !== '')) {
    throw new DataError('some .wav files sit in class subfolders and some directly in the folder; put every file in a class folder, or none', { file: path });
  }

  const infos: WavInfo[] = [];
  for (const a of audio) infos.push(await headerOf(files, a));
  const counts = infos.map((h) => (h.frames === undefined ? undefined : audioWindowCount(resampledLength(h.frames, h.sampleRate, rate), length, stride, pad)));
  const size = counts.every((c) => c !== undefined) ? counts.reduce<number>((s, c) => s + c!, 0) : undefined;
  const short = infos.filter((h) => h.frames !== undefined && resampledLength(h.frames, h.sampleRate, rate) < length).length;

  // what each file was: grouped by rate, channels and encoding, with what was done to it
  const groups = new Map<string, number>();
  for (const h of infos) {
    const done = [h.sampleRate !== rate ? `resampled to ${rate} Hz` : '', h.channels > 1 ? 'channels averaged to mono' : ''].filter(Boolean).join(', ') || 'as is';
    const key = `${h.sampleRate} Hz ${h.channels === 1 ? 'mono' : h.channels === 2 ? 'stereo' : `${h.channels}-channel`} ${wavEncoding(h.bitDepth)}: ${done}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const { rows: constants, said } = spec ? await otherInputs(inputs, spec, axis, length, rate) : { rows: {}, said: [] };
  const rowShape = fx ? [...fx.shape] : layout === 'flat' ? [length] : layout === 'channels-first' ? [1, length] : [length, 1];
  const desc = [
    `${size ?? 'unknown number of'} audio window(s) of ${length} samples${lengthWhy}, stride ${stride}, from ${audio.length} .wav file(s) in ${path}${folders ? folders.describe() : ''}`,
    fx ? `floats in [-1, 1] at ${rate} Hz through ${fx.description}, feeding '${name}' [${rowShape.join(', ')}] per sample` : `feeding '${name}' [${rowShape.join(', ')}] per sample, floats in [-1, 1] at ${rate} Hz`,
    [...groups].map(([k, n]) => `${n} file(s) ${k}`).join('; '),
    `${pad ? "each file's last partial window zero-padded" : "each file's last partial window dropped (pad: true keeps it, zero-padded)"}${short ? `; ${short} file(s) shorter than a window zero-padded to one` : ''}`,
    ...(said.length ? [`other inputs: ${said.join(', ')}`] : []),
  ].join('; ');

  return {
    kind: 'audio',
    description: desc,
    dataFree: false,
    hasLabels: labels !== undefined,
    size,
    async *chunks(): AsyncGenerator<DataChunk> {
      let first = 0;
      for (let f = 0; f < audio.length; f++) {
        const a = audio[f]!;
        const { samples } = decodeWav(await files.read(a.path), a.path, rate);
        const n = audioWindowCount(samples.length, length, stride, pad);
        for (let w0 = 0; w0 < n; w0 += WINDOWS_PER_CHUNK) {
          const m = Math.min(WINDOWS_PER_CHUNK, n - w0);
          const per = sizeOfShape(rowShape);
          const data = new Float32Array(m * per); // zeros: the padding
          const window = fx ? new Float32Array(length) : undefined;
          for (let j = 0; j < m; j++) {
            const start = (w0 + j) * stride;
            const part = samples.subarray(start, Math.min(start + length, samples.length));
            if (!fx) {
              data.set(part, j * length);
              continue;
            }
            window!.fill(0).set(part);
            const f = await fx.extract(window!);
            if (f.length !== per) throw new DataError(`${fx.description} gave ${f.length} values for a window; '${name}' takes [${rowShape.join(', ')}]`, { file: a.path });
            data.set(f, j * per);
          }
          const arrays: Record<string, DataArray> = { [name]: { data, shape: [m, ...rowShape], dtype: 'float32' as DType } };
          for (const [k, row] of Object.entries(constants)) arrays[k] = repeatRow(row, m);
          const chunk: DataChunk = { inputs: arrays, count: m, file: a.path, first };
          if (labels) chunk.labels = new Int32Array(m).fill(labels[f]!);
          yield chunk;
          first += m;
        }
      }
    },
  };
}
