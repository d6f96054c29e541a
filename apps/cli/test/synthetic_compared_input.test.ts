import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { batchesOf, modelInputSpecs, syntheticSource } from '@whittle/eval';
import { readModelFile } from '@whittle/onnx/node';
import { CORPUS, corpusPath } from '@whittle/testing/corpus';

describe('synthetic data on Silero VAD v5 (corpus vad-v5)', () => {
  it("draws 'sr' from the rate the graph compares it with (Equal(sr, 16000)), so the 16 kHz branch runs on the 512-sample windows", async () => {
    const vad = CORPUS.find((m) => m.id === 'vad-v5')!;
    const inputs = modelInputSpecs(await readModelFile(corpusPath(vad)));
    expect(inputs.find((i) => i.name === 'sr')!.comparedWith).toEqual([16000]);
    const source = syntheticSource(inputs, { count: 2 });
    expect(source.description).toMatch(/sr from \{16000\}/);
    const session = await ort.InferenceSession.create(corpusPath(vad));
    try {
      for await (const b of batchesOf(source, { inputs })) {
        const feeds: Record<string, ort.Tensor> = {};
        for (const [k, t] of Object.entries(b.feeds)) feeds[k] = new ort.Tensor(t.dtype as 'float32' | 'int64', t.dataSync() as Float32Array | BigInt64Array, [...t.shape]);
        expect(Array.from(feeds.sr!.data as BigInt64Array, Number)).toEqual([16000]);
        const p = (await session.run(feeds)).output!.data as Float32Array;
        expect(p[0]).toBeGreaterThanOrEqual(0);
        expect(p[0]).toBeLessThanOrEqual(1);
        // a rate drawn at random (as before) takes the else branch, the 8 kHz network, which
        // onnxruntime refuses on these 512-sample windows: the drawn rate decides whether data-free runs work
        await expect(session.run({ ...feeds, sr: new ort.Tensor('int64', BigInt64Array.from([7n]), []) })).rejects.toThrow(/LSTM/);
      }
    } finally {
      await session.release();
    }
  });
});
