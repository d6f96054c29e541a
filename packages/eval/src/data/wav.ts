/**
 * WAV decoding with `wavefile` (pure JavaScript, browser-safe): PCM of 8 to 32 bits, float 32/64,
 * A-law, mu-law and IMA ADPCM, mixed to mono floats in [-1, 1] and resampled to the rate a
 * model takes.
 */
import * as wavefileModule from 'wavefile';
import { DataError } from './errors.js';

type WaveFileClass = typeof wavefileModule.WaveFile;
type WaveFileObject = InstanceType<WaveFileClass>;
// node loads the package's CommonJS bundle (the class under `default`), bundlers its ES module (a named export)
// (read with Reflect: a bundler warns on `.default` of a module that has none)
const WaveFile: WaveFileClass = (wavefileModule as { WaveFile?: WaveFileClass }).WaveFile ?? (Reflect.get(wavefileModule, 'default') as { WaveFile: WaveFileClass }).WaveFile;

/** What a WAV file's header says. */
export interface WavInfo {
  /** Samples per second per channel. */
  sampleRate: number;
  channels: number;
  /** wavefile's code of the encoding: '8' … '32' (PCM bits), '32f', '64' (float), '8a' (A-law), '8m' (mu-law), '4' (IMA ADPCM). */
  bitDepth: string;
  /** Sample frames (one sample per channel) the data chunk declares; unknown for IMA ADPCM (its decoder tells). */
  frames: number | undefined;
}

/** A decoded WAV file: mono samples in [-1, 1] at `rate`, and what the file held. */
export interface DecodedWav {
  samples: Float32Array;
  /** The rate of `samples` (the target rate). */
  rate: number;
  info: WavInfo;
}

const COMPRESSED = new Set(['8a', '8m', '4']);
const RESAMPLE_UNIT = 2 ** 30;
const RESAMPLE_MAX = 2 ** 31 - 1;

/** The encoding name of a bit-depth code, for messages. */
export function wavEncoding(bitDepth: string): string {
  if (bitDepth === '32f' || bitDepth === '64') return `float ${bitDepth === '64' ? 64 : 32}-bit`;
  if (bitDepth === '8a') return 'A-law';
  if (bitDepth === '8m') return 'mu-law';
  if (bitDepth === '4') return 'IMA ADPCM';
  return `PCM ${bitDepth}-bit`;
}

function supported(bitDepth: string): boolean {
  if (COMPRESSED.has(bitDepth) || bitDepth === '32f' || bitDepth === '64') return true;
  const n = Number(bitDepth);
  return Number.isInteger(n) && n >= 8 && n <= 32;
}

/** A name for what a file that is not a WAV starts like (a common audio format), for the error message. */
function otherFormat(bytes: Uint8Array): string | undefined {
  const tag = String.fromCharCode(...bytes.subarray(0, 4));
  if (tag === 'fLaC') return 'FLAC';
  if (tag === 'OggS') return 'Ogg';
  if (tag.startsWith('ID3') || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return 'MP3';
  if (String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp') return 'MP4/M4A';
  return undefined;
}

function parse(bytes: Uint8Array, file: string, samples: boolean): WaveFileObject {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes, samples);
  } catch (e) {
    const other = otherFormat(bytes);
    const why = other ? `this is ${other}, not WAV; convert it to WAV (e.g. ffmpeg -i in -ar 16000 -ac 1 out.wav)` : `not a readable WAV file (${(e as Error).message})`;
    throw new DataError(why, { file }, { cause: e });
  }
  return wav;
}

function infoOf(wav: WaveFileObject, file: string): WavInfo {
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; blockAlign: number; audioFormat: number; bitsPerSample: number };
  const data = wav.data as { chunkSize: number };
  if (!supported(wav.bitDepth)) throw new DataError(`unsupported WAV encoding (format tag ${fmt.audioFormat}, ${fmt.bitsPerSample} bits); save it as PCM or float WAV`, { file });
  if (!(fmt.sampleRate > 0) || !(fmt.numChannels > 0) || !(fmt.blockAlign > 0)) throw new DataError(`the WAV header is broken (rate ${fmt.sampleRate}, ${fmt.numChannels} channel(s), block size ${fmt.blockAlign})`, { file });
  // an IMA ADPCM block holds many frames: only the decoder tells how many
  const frames = wav.bitDepth === '4' ? undefined : Math.floor(data.chunkSize / fmt.blockAlign);
  return { sampleRate: fmt.sampleRate, channels: fmt.numChannels, bitDepth: wav.bitDepth, frames };
}

/** Refuse a data chunk that declares more bytes than the file holds (`extra`: bytes of the file past `bytes`). */
function checkComplete(wav: WaveFileObject, file: string, extra: number): void {
  const data = wav.data as { chunkSize: number; samples: Uint8Array };
  const held = data.samples.length + extra;
  if (held < data.chunkSize) throw new DataError(`truncated WAV: the data chunk declares ${data.chunkSize} bytes, the file holds ${held}`, { file });
}

/**
 * The header of a WAV file. `bytes` may be only the file's start when `fileSize` tells its whole
 * size: a data chunk longer than the file (a truncated copy) is refused either way.
 */
export function readWavInfo(bytes: Uint8Array, file: string, fileSize = bytes.length): WavInfo {
  const wav = parse(bytes, file, true);
  const info = infoOf(wav, file);
  checkComplete(wav, file, fileSize - bytes.length);
  return info;
}

/**
 * Number of samples {@link decodeWav} gives for `frames` at `from` Hz resampled to `to` Hz
 * (wavefile's resampler makes `trunc(frames · ratio)` samples).
 */
export function resampledLength(frames: number, from: number, to: number): number {
  return from === to ? frames : Math.trunc(frames * ((to - from) / from + 1));
}

/**
 * Decode a WAV file: channels averaged to mono, values scaled to [-1, 1] (PCM by its full scale,
 * 8-bit PCM around its 128 midpoint, A-law/mu-law/ADPCM after wavefile expands them to 16 bits,
 * floats as stored), resampled to `rate` Hz with wavefile's `toSampleRate` (cubic interpolation
 * behind a zero-phase low-pass filter) when the file's rate differs (values beyond ±2 are then
 * clipped). A truncated data chunk, an
 * unknown encoding or a file that is not WAV is a {@link DataError} naming the file.
 */
export function decodeWav(bytes: Uint8Array, file: string, rate: number): DecodedWav {
  const wav = parse(bytes, file, true);
  const info = infoOf(wav, file);
  checkComplete(wav, file, 0);
  if (wav.bitDepth === '8a') wav.fromALaw();
  else if (wav.bitDepth === '8m') wav.fromMuLaw();
  else if (wav.bitDepth === '4') wav.fromIMAADPCM();
  const depth = wav.bitDepth;
  const float = depth === '32f' || depth === '64';
  const bits = Number(depth);
  // 8-bit PCM is unsigned around 128, wider PCM signed: both map full scale to [-1, 1)
  const offset = !float && bits === 8 ? 128 : 0;
  const scale = float ? 1 : 1 / 2 ** (bits - 1);
  const channels = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const perChannel = Array.isArray(channels) ? channels : [channels];
  const n = perChannel[0]?.length ?? 0;
  if (n === 0) throw new DataError('the WAV file holds no samples', { file });
  const mono = new Float64Array(n);
  const k = scale / perChannel.length;
  for (const ch of perChannel) for (let i = 0; i < n; i++) mono[i] = mono[i]! + (ch[i]! - offset) * k;
  if (info.sampleRate === rate) return { samples: Float32Array.from(mono), rate, info };
  // resampled as 32-bit integers: wavefile packs those ~10x faster than floats, and at 2^30 per
  // unit (6 dB of headroom for float files above full scale) they keep more than float32 resolves
  const ints = new Int32Array(n);
  for (let i = 0; i < n; i++) ints[i] = Math.max(-RESAMPLE_MAX, Math.min(RESAMPLE_MAX, Math.round(mono[i]! * RESAMPLE_UNIT)));
  const out = new WaveFile();
  try {
    out.fromScratch(1, info.sampleRate, '32', ints);
    out.toSampleRate(rate);
  } catch (e) {
    throw new DataError(`cannot resample from ${info.sampleRate} Hz to ${rate} Hz: ${(e as Error).message}`, { file }, { cause: e });
  }
  const resampled = out.getSamples(false, Float64Array) as unknown as Float64Array;
  return { samples: Float32Array.from(resampled, (v) => v / RESAMPLE_UNIT), rate, info };
}
