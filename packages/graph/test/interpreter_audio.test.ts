import { it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { cpu, expectMatchesOrt, oneNode, randn, type OneNode } from './interpreter_harness.js';

/**
 * The audio front-end ops (DFT, STFT, the window generators, MelWeightMatrix) against
 * onnxruntime-node on cpu and webgpu, on the forms the ONNX node tests leave out: transform
 * lengths that cut or pad the signal, complex inputs, odd one-sided inverses, and an STFT of a
 * real signal (a chirp) with a Hann window.
 */
const chirp = (n: number, rate: number): number[] => Array.from({ length: n }, (_, t) => Math.fround(Math.sin(2 * Math.PI * (200 + 2000 * (t / n)) * (t / rate)) + 0.1 * Math.cos(t)));
const i64 = (v: number): ReturnType<typeof cpu> => cpu([v], [], 'int64');

const cases: [string, OneNode][] = [
  ['DFT complex input, dft_length pads', { op: 'DFT', feeds: { x: randn([2, 7, 2], 1) }, inputs: ['x', 'init:n', 'init:a'], inits: { n: i64(9), a: i64(1) }, outputs: ['float32'], opset: 20 }],
  ['DFT real input, dft_length cuts, axis 0', { op: 'DFT', feeds: { x: randn([12, 3, 1], 2) }, inputs: ['x', 'init:n', 'init:a'], inits: { n: i64(8), a: i64(0) }, outputs: ['float32'], opset: 20 }],
  ['DFT inverse of a complex signal, negative axis', { op: 'DFT', feeds: { x: randn([3, 5, 4, 2], 3) }, inputs: ['x', '', 'init:a'], inits: { a: i64(-3) }, attrs: { inverse: 1 }, outputs: ['float32'], opset: 20 }],
  ['DFT one-sided of an odd length (opset 17 axis attribute)', { op: 'DFT', feeds: { x: randn([2, 11, 1], 4) }, inputs: ['x'], attrs: { onesided: 1, axis: 1 }, outputs: ['float32'], opset: 17 }],
  ['DFT inverse one-sided to an odd length', { op: 'DFT', feeds: { x: randn([2, 6, 2], 5) }, inputs: ['x', 'init:n', 'init:a'], inits: { n: i64(11), a: i64(1) }, attrs: { inverse: 1, onesided: 1 }, outputs: ['float32'], opset: 20 }],
  ['STFT of a chirp with a Hann window, one-sided', {
    op: 'STFT',
    feeds: { s: cpu(chirp(400, 8000), [1, 400, 1]) },
    inputs: ['s', 'init:step', 'init:w'],
    inits: { step: i64(40), w: cpu(Array.from({ length: 64 }, (_, n) => Math.sin((Math.PI * n) / 64) ** 2), [64]) },
    outputs: ['float32'],
    opset: 17,
  }],
  ['STFT of a complex batch, two-sided, frame_length without window', { op: 'STFT', feeds: { s: randn([2, 50, 2], 6) }, inputs: ['s', 'init:step', '', 'init:len'], inits: { step: i64(7), len: i64(12) }, attrs: { onesided: 0 }, outputs: ['float32'], opset: 17 }],
  ['HannWindow symmetric', { op: 'HannWindow', feeds: {}, inputs: ['init:n'], inits: { n: cpu([17], [], 'int32') }, attrs: { periodic: 0 }, outputs: ['float32'], opset: 17 }],
  ['HammingWindow periodic', { op: 'HammingWindow', feeds: {}, inputs: ['init:n'], inits: { n: i64(16) }, outputs: ['float32'], opset: 17 }],
  ['BlackmanWindow periodic', { op: 'BlackmanWindow', feeds: {}, inputs: ['init:n'], inits: { n: i64(20) }, outputs: ['float32'], opset: 17 }],
  ['MelWeightMatrix of a 16 kHz front end', {
    op: 'MelWeightMatrix',
    feeds: {},
    inputs: ['init:m', 'init:d', 'init:r', 'init:lo', 'init:hi'],
    inits: { m: i64(20), d: i64(256), r: i64(16000), lo: cpu([20], []), hi: cpu([7600], []) },
    outputs: ['float32'],
    opset: 17,
  }],
];

describeBackends('audio front-end ops match onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend, 1e-4, 1e-4);
    });
  }
});
