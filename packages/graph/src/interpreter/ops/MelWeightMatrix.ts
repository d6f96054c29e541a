import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { onnxTypeToDType } from './elementwise.js';
import { hostFloats, hostInts, unsupported } from './util.js';

/**
 * ONNX MelWeightMatrix (opset 17): `[dft_length/2 + 1, num_mel_bins]` triangular filters
 * between mel-spaced edges, built on the host as onnx's reference does (edges rounded down to
 * DFT bins as ⌊(dft_length + 1)·f / sample_rate⌋).
 */
registerOp('MelWeightMatrix', async ([melT, dftT, rateT, lowT, highT], ctx) => {
  const mels = (await hostInts(melT!))[0]!;
  const dftLength = (await hostInts(dftT!))[0]!;
  const rate = (await hostInts(rateT!))[0]!;
  const low = (await hostFloats(lowT!))[0]!;
  const high = (await hostFloats(highT!))[0]!;
  if (!(mels > 0 && dftLength > 0 && rate > 0)) unsupported(ctx, `num_mel_bins ${mels}, dft_length ${dftLength}, sample_rate ${rate}`);
  const bins = Math.floor(dftLength / 2) + 1;
  const toMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
  const lowMel = toMel(low);
  const step = (toMel(high) - lowMel) / (mels + 2);
  const edges = Array.from({ length: mels + 2 }, (_, i) => {
    const hz = 700 * (10 ** ((i * step + lowMel) / 2595) - 1);
    return Math.floor(((dftLength + 1) * hz) / rate);
  });
  const w = new Array<number>(bins * mels).fill(0);
  const set = (j: number, i: number, v: number): void => {
    if (j < 0 || j >= bins) unsupported(ctx, `a filter edge at bin ${j} outside the ${bins} spectrogram bins (upper_edge_hertz above sample_rate/2?)`);
    w[j * mels + i] = v;
  };
  for (let i = 0; i < mels; i++) {
    const [lo, center, hi] = [edges[i]!, edges[i + 1]!, edges[i + 2]!];
    if (center === lo) set(center, i, 1);
    else for (let j = lo; j <= center; j++) set(j, i, (j - lo) / (center - lo));
    for (let j = center; j < hi; j++) set(j, i, (hi - j) / (hi - center));
  }
  return [T.tensor(w, [bins, mels], onnxTypeToDType(ctx.int('output_datatype', 1), ctx.node.name), { backend: ctx.backend })];
});
