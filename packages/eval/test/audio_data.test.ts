import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import { type DataChunk, type DataSource, type ModelInputSpec, DataError, audioSource, audioWindowCount, batchesOf, decodeWav, detectDataSpec, openData, resampledLength } from '../src/index.js';
import { nodeDataFiles } from '../src/node.js';

const files = nodeDataFiles;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'whittle-audio-'));
const sine = (hz: number, rate: number, n: number, amp = 1): Float64Array => Float64Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

/** A WAV file written by wavefile: `channels` sample arrays in the encoding's own range. */
function wav(channels: ArrayLike<number>[], rate: number, bitDepth: string): Uint8Array {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels.length, rate, bitDepth, channels.length === 1 ? Array.from(channels[0]!) : channels.map((c) => Array.from(c)));
  return w.toBuffer();
}
/** A 16 kHz float32 mono WAV of `samples`. */
const f32wav = (samples: ArrayLike<number>): Uint8Array => wav([samples], 16000, '32f');
/** Samples i / 10000 (a ramp): every window's content tells where it was cut. */
const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i / 10000);

async function chunksOf(s: DataSource): Promise<DataChunk[]> {
  const out: DataChunk[] = [];
  for await (const c of s.chunks()) out.push(c);
  return out;
}

const signal = (shape: ModelInputSpec['shape'], name = 'input'): ModelInputSpec => ({ name, elemType: 'float32', shape });

describe('WAV decoding (wavefile)', () => {
  it('PCM16 stereo: channels averaged, scaled by 1/32768 (within one step of the analytic sine)', () => {
    const n = 2000;
    const left = sine(440, 44100, n, 0.5);
    const right = sine(440, 44100, n, 0.25);
    const bytes = wav([Int16Array.from(left, (v) => Math.round(v * 32767)), Int16Array.from(right, (v) => Math.round(v * 32767))], 44100, '16');
    const d = decodeWav(bytes, 'st.wav', 44100);
    expect(d.info).toEqual({ sampleRate: 44100, channels: 2, bitDepth: '16', frames: n });
    expect(d.samples.length).toBe(n);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(d.samples[i]! - (left[i]! + right[i]!) / 2));
    expect(worst).toBeLessThanOrEqual(1 / 32768);
  });

  it('44.1 kHz → 16 kHz: a 200 Hz sine matches the analytic sine at 16 kHz', () => {
    const n = 22050; // 0.5 s
    const bytes = wav([Int16Array.from(sine(200, 44100, n, 0.5), (v) => Math.round(v * 32767))], 44100, '16');
    const d = decodeWav(bytes, 'rs.wav', 16000);
    expect(d.rate).toBe(16000);
    expect(d.samples.length).toBe(resampledLength(n, 44100, 16000));
    expect(d.samples.length).toBe(8000);
    const ref = sine(200, 16000, d.samples.length, 0.5);
    // the low-pass filter starts from rest at both ends (it runs forwards and back): 2 ms are left out there
    let worst = 0;
    for (let i = 32; i < d.samples.length - 32; i++) worst = Math.max(worst, Math.abs(d.samples[i]! - ref[i]!));
    console.log(`44.1k→16k resampling of a 200 Hz sine (amplitude 0.5): max error ${worst.toExponential(2)} inside the first/last 2 ms`);
    expect(worst).toBeLessThan(0.02);
  });

  it('float32 mono at the target rate is taken as stored; 8-bit PCM is centred on 128', () => {
    const x = Float32Array.from(sine(300, 16000, 700, 0.9));
    expect(Array.from(decodeWav(f32wav(x), 'f.wav', 16000).samples)).toEqual(Array.from(x));
    const u8 = [0, 64, 128, 200, 255];
    expect(Array.from(decodeWav(wav([u8], 8000, '8'), 'u8.wav', 8000).samples)).toEqual(u8.map((v) => (v - 128) / 128));
  });
});

describe('audio source', () => {
  it('windows, stride and padding: counts as documented, contents cut from the file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'long.wav'), f32wav(ramp(1300)));
    writeFileSync(join(dir, 'short.wav'), f32wav(ramp(300)));
    const spec = [signal(['batch', 512])];
    // 1300 samples in windows of 512: floor(788/512)+1 = 2 whole, ceil(788/512)+1 = 3 padded;
    // stride 256: floor(788/256)+1 = 4, ceil(788/256)+1 = 5; the 300-sample file is one padded window
    const cases: [number | undefined, boolean, number][] = [[undefined, false, 2], [undefined, true, 3], [256, false, 4], [256, true, 5]];
    for (const [stride, pad, windows] of cases) {
      const s = await audioSource(files, dir, spec, { stride, pad });
      expect(audioWindowCount(1300, 512, stride ?? 512, pad)).toBe(windows);
      const want = windows + 1;
      const chunks = await chunksOf(s);
      expect(s.size).toBe(want);
      expect(chunks.reduce((k, c) => k + c.count, 0)).toBe(want);
      expect(s.description).toMatch(/audio window\(s\) of 512 samples \(the input's fixed length\)/);
      expect(s.description).toContain('1 file(s) shorter than a window zero-padded to one');
      const long = chunks.find((c) => c.file.endsWith('long.wav'))!;
      const a = long.inputs.input!.data as Float32Array;
      expect(long.inputs.input!.shape).toEqual([long.count, 512]);
      for (let w = 0; w < long.count; w++) {
        for (const j of [0, 1, 511]) {
          const k = w * (stride ?? 512) + j;
          expect(a[w * 512 + j]).toBe(k < 1300 ? Math.fround(k / 10000) : 0);
        }
      }
      const short = chunks.find((c) => c.file.endsWith('short.wav'))!;
      expect(short.count).toBe(1);
      expect((short.inputs.input!.data as Float32Array)[299]).toBe(Math.fround(299 / 10000));
      expect((short.inputs.input!.data as Float32Array)[300]).toBe(0);
    }
    expect(audioWindowCount(512, 512, 512, false)).toBe(1);
    expect(audioWindowCount(1024, 512, 512, true)).toBe(2);
  });

  it('the size told before reading is the number of windows read, for resampled stereo files of any length', async () => {
    const dir = tmp();
    const lengths = [44100, 12345, 1000, 30001];
    lengths.forEach((n, k) => writeFileSync(join(dir, `${k}.wav`), wav([Int16Array.from(sine(300, 44100, n, 0.3), (v) => Math.round(v * 32767)), new Int16Array(n)], 44100, '16')));
    for (const [length, stride, pad] of [[512, 512, false], [512, 160, true], [1000, 333, false]] as const) {
      const s = await audioSource(files, dir, [signal(['b', 'n'])], { length, stride, pad });
      const read = (await chunksOf(s)).reduce((k, c) => k + c.count, 0);
      const want = lengths.reduce((k, n) => k + audioWindowCount(resampledLength(n, 44100, 16000), length, stride, pad), 0);
      expect([s.size, read]).toEqual([want, want]);
    }
  });

  it('class subfolders (at any depth below them) give labels; sorted class names; skip/limit as other sources', async () => {
    const dir = tmp();
    for (const d of ['yes', 'no', 'no/more']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'yes', 'a.wav'), f32wav(ramp(1024)));
    writeFileSync(join(dir, 'no', 'b.wav'), f32wav(ramp(512)));
    writeFileSync(join(dir, 'no', 'more', 'c.wav'), f32wav(ramp(600)));
    writeFileSync(join(dir, 'no', 'notes.txt'), 'transcripts sit beside speech');
    const spec = await detectDataSpec(files, dir);
    expect(spec).toEqual({ kind: 'audio', path: dir });
    const { source } = await openData(dir, { files, inputs: [signal([null, 512])] });
    expect(source.hasLabels).toBe(true);
    expect(source.description).toContain('in 2 classes (no, yes; labels 0… in sorted order)');
    const labels: number[] = [];
    for await (const b of batchesOf(source, { inputs: [signal([null, 512])] })) labels.push(...b.labels!);
    // depth first by name: no/b.wav, no/more/c.wav, yes/a.wav (2 windows)
    expect(labels).toEqual([0, 0, 1, 1]);
    writeFileSync(join(dir, 'spec.yaml'), 'kind: audio\npath: .\nskip: 1\nlimit: 2\n');
    const { source: sub } = await openData(join(dir, 'spec.yaml'), { files, inputs: [signal([null, 512])] });
    const subLabels: number[] = [];
    for await (const c of sub.chunks()) subLabels.push(...c.labels!);
    expect(subLabels).toEqual([0, 1]);
  });

  it('feeds a rank-3 input [batch, 1, samples] or [batch, samples, 1], and the sample rate to `sr`, zeros to a state (Silero VAD inputs)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.wav'), f32wav(ramp(1100)));
    for (const [shape, row] of [[['b', 1, 'n'], [1, 400]], [['b', 'n', 1], [400, 1]]] as const) {
      const inputs = [signal([...shape])];
      const s = await audioSource(files, join(dir, 'a.wav'), inputs, { length: 400 });
      const batches = [];
      for await (const b of batchesOf(s, { inputs })) batches.push(b);
      expect(batches.map((b) => [...b.feeds.input!.shape])).toEqual([[2, ...row]]);
      expect(Array.from(batches[0]!.feeds.input!.dataSync() as Float32Array).slice(400, 402)).toEqual([Math.fround(0.04), Math.fround(0.0401)]);
    }
    const vad: ModelInputSpec[] = [signal(['batch', 'sequence']), signal([2, 'batch', 128], 'state'), { name: 'sr', elemType: 'int64', shape: [], comparedWith: [16000] }];
    const s = await audioSource(files, dir, vad, { length: 512, sampleRate: 16000 });
    expect(s.description).toContain("feeding 'input' [512]");
    expect(s.description).toContain('other inputs: state zeros, sr = 16000 (the sample rate)');
    const feeds = [];
    for await (const b of batchesOf(s, { inputs: vad })) feeds.push(b.feeds);
    expect(feeds.length).toBe(2); // 1100 samples: two whole windows of 512, one feed each (state's fixed first axis)
    expect(feeds.map((f) => [[...f.input!.shape], [...f.state!.shape], [...f.sr!.shape]])).toEqual([[[1, 512], [2, 1, 128], []], [[1, 512], [2, 1, 128], []]]);
    expect(Array.from(feeds[1]!.sr!.dataSync() as BigInt64Array, Number)).toEqual([16000]);
    expect((feeds[1]!.state!.dataSync() as Float32Array).every((v) => v === 0)).toBe(true);
    // a dynamic length: one second at the rate, said in the description
    const dyn = await audioSource(files, dir, vad, { sampleRate: 8000 });
    expect(dyn.description).toMatch(/window\(s\) of 8000 samples \(1 s at 8000 Hz: the input's length is dynamic/);
    expect(dyn.description).toContain('16000 Hz mono float 32-bit: resampled to 8000 Hz');
    expect(dyn.description).toContain('sr = 8000 (the sample rate; the graph compares it with 16000 only)');
    expect(dyn.size).toBe(1); // 1100 samples at 16 kHz = 550 at 8 kHz: padded to one window
  });

  it('.wav files are detected by name, several signal inputs need `input`', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.wav'), f32wav(ramp(100)));
    expect(await detectDataSpec(files, join(dir, 'a.wav'))).toEqual({ kind: 'audio', path: join(dir, 'a.wav') });
    const two = [signal(['b', 'n'], 'left'), signal(['b', 'n'], 'right')];
    await expect(audioSource(files, dir, two)).rejects.toThrow(/inputs 'left' \[b, n\], 'right' \[b, n\] could each take the samples; name the one/);
    const s = await audioSource(files, dir, two, { input: 'right', length: 64 });
    expect(s.description).toContain("feeding 'right' [64]");
    expect(s.description).toContain('left zeros');
  });
});

describe('audio source: bad input names the file', () => {
  const refused = async (p: Promise<unknown>): Promise<DataError> => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  };

  it('an .mp3 (by name, in a folder, or renamed to .wav), a truncated .wav, a header cut short, an empty folder', async () => {
    const dir = tmp();
    const mp3 = Uint8Array.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0xff, 0xfb, 0x90, 0x64, ...new Array<number>(200).fill(0)]);
    writeFileSync(join(dir, 'clip.mp3'), mp3);
    let e = await refused(detectDataSpec(files, join(dir, 'clip.mp3')));
    expect(e.file).toBe(join(dir, 'clip.mp3'));
    expect(e.message).toMatch(/MP3 audio is not read, only WAV; convert it/);

    const mp3s = tmp();
    writeFileSync(join(mp3s, 'b.mp3'), mp3);
    e = await refused(detectDataSpec(files, mp3s));
    expect(e.file).toBe(join(mp3s, 'b.mp3'));
    expect(e.message).toMatch(/MP3 audio is not read, only WAV/);

    const mixed = tmp();
    writeFileSync(join(mixed, 'a.wav'), f32wav(ramp(100)));
    writeFileSync(join(mixed, 'b.mp3'), mp3);
    e = await refused(openData(mixed, { files, inputs: [signal(['b', 'n'])] }));
    expect(e.file).toBe(join(mixed, 'b.mp3'));

    writeFileSync(join(dir, 'renamed.wav'), mp3);
    e = await refused(openData(join(dir, 'renamed.wav'), { files, inputs: [signal(['b', 'n'])] }));
    expect(e.file).toBe(join(dir, 'renamed.wav'));
    expect(e.message).toContain('this is MP3, not WAV');

    const whole = wav([Int16Array.from(sine(440, 16000, 4000, 0.5), (v) => Math.round(v * 32767))], 16000, '16');
    writeFileSync(join(dir, 'cut.wav'), whole.subarray(0, 3000));
    e = await refused(openData(join(dir, 'cut.wav'), { files, inputs: [signal(['b', 'n'])] }));
    expect(e.file).toBe(join(dir, 'cut.wav'));
    expect(e.message).toMatch(/truncated WAV: the data chunk declares 8000 bytes, the file holds 2956/);

    writeFileSync(join(dir, 'head.wav'), whole.subarray(0, 30));
    e = await refused(openData(join(dir, 'head.wav'), { files, inputs: [signal(['b', 'n'])] }));
    expect(e.file).toBe(join(dir, 'head.wav'));
    expect(e.message).toContain('not a readable WAV file');

    const empty = tmp();
    e = await refused(audioSource(files, empty, [signal(['b', 'n'])]));
    expect(e.file).toBe(empty);
    expect(e.message).toContain('no .wav files here or in its subfolders');
    e = await refused(detectDataSpec(files, empty));
    expect(e.file).toBe(empty);
  });
});
