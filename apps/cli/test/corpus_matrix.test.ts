/**
 * Every technique of the command line on every model of the real-model corpus and on the
 * exporter-style fixtures: each run either compresses (valid in onnxruntime-node, not larger, at
 * its fidelity floor on seeded inputs, at its size target where the model's parameters are ≥ 90 %
 * in MatMul/Gemm/Conv/Gather) or is refused with a reason — never a silent no-op, never an output
 * onnxruntime refuses. `test/matrix/print_matrix.ts` prints the same table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '@whittle/onnx';
import { CORPUS, PREQUANTIZED_CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import { FIXTURES } from './matrix/fixtures.js';
import { TECHNIQUES, type MatrixCell, linearFraction, matrixTable, referenceOutputs, runCell } from './matrix/run_matrix.js';

/** Refusals that are right, with why (anything else refused is a failure). */
const EXPECTED_REFUSALS: Record<string, RegExp> = {
  // every Conv/MatMul weight is inside an If branch: calibration observes main-graph activations only
  'vad-legacy/static-int8': /inside a subgraph/,
  'vad-v5/static-int8': /inside a subgraph/,
  'optimum-decoder/static-int8': /inside a subgraph/,
  // 1-D convolutions inside If branches / LayerNorm-statistic heads: no channel group is prunable
  'vad-legacy/prune-structured-25': /no Conv\/Gemm\/MatMul/,
  'vad-v5/prune-structured-25': /no Conv\/Gemm\/MatMul/,
  'oww-melspec/prune-structured-25': /nothing prunable/,
  'oww-hey-jarvis/prune-structured-25': /nothing prunable/,
  'optimum-decoder/prune-structured-25': /no Conv\/Gemm\/MatMul/,
  // the STFT convolutions have 1 input channel and the mel MatMul 257 rows: no group of 4 to make 2:4
  // (it used to pass while writing an unchanged model)
  'oww-melspec/prune-2:4': /not a multiple of 4/,
  // random fixture weights have flat spectra: energy 0.9 never gets below the break-even rank
  'torch-encoder/lowrank': /break-even/,
  'torch-mobilenetv2/lowrank': /break-even/,
  // [8, 64, 32, 3] MLPs: no layer is wide enough for a rank below break-even at energy 0.9
  'skl2onnx-mlp/lowrank': /break-even/,
  'skl2onnx-mlp-zipmap/lowrank': /break-even/,
  'skl2onnx-regressor/lowrank': /break-even/,
  // a decision tree's thresholds and leaves are TreeEnsembleClassifier attributes: no float weight anywhere
  ...Object.fromEntries(TECHNIQUES.map((t) => [`skl2onnx-tree/${t.id}`, /TreeEnsembleClassifier \(\d+ floats\) holds learned parameters as ai\.onnx\.ml node attributes/])),
};

/** Cells skipped in the suite, with why. */
const SKIPPED: Record<string, string> = {
  // none: the Tucker-2 refusal on the 36 random-weight MobileNetV2 layers takes ~2 s since spectra come from Gram matrices
};

/** Size targets measured below the bar (stated in the closing note, not hidden): model/technique → measured ratio. */
const KNOWN_SIZE_MISSES: Record<string, number> = {
  // (the paddle fixtures' 10 % outside MatMul/Gemm/Conv/Gather was the ConvTranspose weight, 7 %,
  // now quantized per input channel, plus biases and one unfolded BatchNormalization: no miss)
  // The skl2onnx MLPs hold 11 KB of weights: the float32 biases (4 %) and one scale per output
  // channel (99 floats) are a large share of what is left
  'skl2onnx-mlp/int8-weights': 3.18, 'skl2onnx-mlp/int4-weights': 5.16,
  'skl2onnx-mlp-zipmap/int8-weights': 3.18, 'skl2onnx-mlp-zipmap/int4-weights': 5.16,
  'skl2onnx-regressor/int8-weights': 3.18, 'skl2onnx-regressor/int4-weights': 5.16, 'skl2onnx-regressor/dynamic-int8': 3.47,
};

/** Fidelity floors below the technique's, with why. */
const LOW_FIDELITY: Record<string, number> = {
  // a 2-class head on synthetic text images: one flipped decision flips the sign of the log-odds cosine
  'ocr-cls/cluster': -1, 'ocr-cls/prune-50': -1, 'ocr-cls/prune-2:4': -1, 'ocr-cls/prune-structured-25': -1,
  // Silero v5: every Conv is tiny and feeds an LSTM; 4-bit grids and 16 shared values without fine-tuning
  'vad-v5/int4-weights': 0.7, 'vad-v5/cluster': 0.6, 'vad-legacy/int4-weights': 0.85, 'vad-legacy/cluster': 0.85,
  'vad-v5/dynamic-int8': 0.9, 'vad-16k-op15/cluster': 0.85,
  'vad-16k-op15/prune-structured-25': 0.3, 'oww-embedding/prune-structured-25': 0.3, 'torch-mobilenetv2/prune-structured-25': 0.6,
  'vad-v5/lowrank': 0.5, 'vad-legacy/lowrank': 0.7, 'vad-16k-op15/lowrank': 0.7, 'oww-melspec/lowrank': 0.6,
};

const models = [
  ...CORPUS.map((m) => ({ id: m.id, inputs: m.inputs, bytes: () => corpusBytes(m) })),
  ...FIXTURES.map((f) => ({ id: f.id, inputs: f.inputs, bytes: () => writeModel(f.build()) })),
];
const cells: MatrixCell[] = [];
afterAll(() => console.log(`\n${matrixTable(cells)}\n`));

describe('technique × model matrix (front end on, outcomes enforced, outputs in onnxruntime-node)', () => {
  for (const m of models) {
    it(m.id, async () => {
      const bytes = m.bytes();
      const model = readModel(bytes);
      const feeds = [1, 2, 3, 4].map((s) => corpusFeeds(m, s));
      const ref = await referenceOutputs(bytes, feeds);
      const linear = (await linearFraction(model)) >= 0.9;
      for (const t of TECHNIQUES) {
        const key = `${m.id}/${t.id}`;
        if (SKIPPED[key]) continue;
        const c = await runCell(m.id, model, bytes, t, feeds, ref);
        cells.push(c);
        expect(c.outcome, `${key}: ${c.reason ?? ''}`).not.toBe('failed');
        if (c.outcome === 'refused') {
          expect(EXPECTED_REFUSALS[key], `${key} refused unexpectedly: ${c.reason}`).toBeDefined();
          expect(c.reason, key).toMatch(EXPECTED_REFUSALS[key]!);
          continue;
        }
        expect(EXPECTED_REFUSALS[key], `${key} now compresses: update the expectations`).toBeUndefined();
        expect(c.bytesOut!, key).toBeLessThanOrEqual(c.bytesIn);
        expect(c.ratio!, key).toBeGreaterThanOrEqual(1);
        expect(c.cosine!, key).toBeGreaterThanOrEqual(LOW_FIDELITY[key] ?? t.minCosine);
        if (linear && t.minRatio !== undefined) {
          const miss = KNOWN_SIZE_MISSES[key];
          if (miss !== undefined) expect(c.ratio!, key).toBeGreaterThanOrEqual(miss - 0.05);
          else expect(c.ratio!, `${key}: size target`).toBeGreaterThanOrEqual(t.minRatio);
        }
      }
    }, 240_000);
  }
});

/**
 * A few cells on the transformers their publisher already quantized (dynamic int8: every
 * MatMul is a MatMulInteger): the float weights left (Conv stem, norms) compress or the run is
 * refused with why, never a silent no-op. Expected cosine floors are measured with margin.
 */
const PREQUANTIZED_CELLS: Record<string, { technique: string; refused?: RegExp; minCosine?: number }[]> = {
  // the three uint8 Conv weights (dequantized by Cast/Mul/Add, which the front end folds) are all
  // that is float: 16 shared values are smaller than their uint8 codes (measured 1.12x, 0.84)
  'moonshine-encoder': [{ technique: 'cluster', minCosine: 0.75 }, { technique: 'dynamic-int8', refused: /larger than the input/ }],
  // float weights are norms and biases (84 KB): float16 halves them (measured cosine 0.9965)
  'moonshine-decoder': [{ technique: 'float16', minCosine: 0.99 }, { technique: 'int4-weights', refused: /uint8 weight \(only float32 and float16 weights are quantized\)/ }],
  // every MatMul is int8 and the ConvIntegers stay so: the refusal names --requantize-int8 (float16
  // of its 0.6 M float32 values, 1.14x, is tested with the command line: comparing its four
  // [6, 1500, 1500] attention maps here would take a minute)
  'whisper-encoder': [{ technique: 'int4-weights', refused: /0 MatMul\/Gemm\/Conv\/ConvTranspose\/Gather weights quantized; 24 int8 MatMul layer\(s\) and 2 ConvInteger layer\(s\) \(to DequantizeLinear → Conv\) can be re-quantized from their int8 weights with requantizeInt8 \(--requantize-int8 --format matmulnbits\)/ }],
  // norms, biases and positions are float (0.2 M values): float16 saves 1 % (measured 1.01x, cosine 0.9878)
  'whisper-decoder': [{ technique: 'float16', minCosine: 0.98 }, { technique: 'int4-weights', refused: /2 uint8 weight \(only float32 and float16 weights are quantized\); 72 int8 MatMul layer\(s\) and 1 int8 token table\(s\) can be re-quantized/ }],
};

describe('pre-quantized transformers: chosen cells', () => {
  for (const m of PREQUANTIZED_CORPUS) {
    it(m.id, async () => {
      const bytes = corpusBytes(m);
      const model = readModel(bytes);
      const feeds = [1, 2].map((s) => corpusFeeds(m, s));
      // reference outputs only where a cell compresses (Whisper's encoder answers 54 M attention values per run)
      const wanted = PREQUANTIZED_CELLS[m.id] ?? [];
      expect(wanted.length, `${m.id}: no cell chosen`).toBeGreaterThan(0);
      const ref = wanted.some((w) => !w.refused) ? await referenceOutputs(bytes, feeds) : new Float64Array(0);
      for (const want of wanted) {
        const c = await runCell(m.id, model, bytes, TECHNIQUES.find((t) => t.id === want.technique)!, feeds, ref);
        cells.push(c);
        const key = `${m.id}/${want.technique}`;
        if (want.refused) {
          expect(c.outcome, `${key}: ${c.reason ?? ''}`).toBe('refused');
          expect(c.reason, key).toMatch(want.refused);
          continue;
        }
        expect(c.outcome, `${key}: ${c.reason ?? ''}`).toBe('compressed');
        expect(c.bytesOut!, key).toBeLessThan(c.bytesIn);
        expect(c.cosine!, key).toBeGreaterThanOrEqual(want.minCosine!);
      }
    }, 120_000);
  }
});
