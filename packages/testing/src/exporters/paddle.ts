import { type Model, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor, tensor } from '@whittle/tensor';

/** Options of {@link paddleOcrStyle}. */
export interface PaddleOcrStyleOptions {
  /** Seed of the weights. */
  seed: number;
  /**
   * Default opset import: 11 (default; Clip min/max and Slice starts/ends as Constant inputs,
   * Resize with roi/scales) or 9 (Clip and Slice with attributes, Upsample instead of Resize).
   */
  opset?: 9 | 11;
}

const f32 = (v: Float32Array, shape: number[]): Tensor => tensor(v, shape, 'float32', { backend: 'cpu' });

/**
 * What paddle2onnx writes for a small PP-OCR style network (input `x` [N, 3, 32, 32]; outputs
 * `sigmoid_0.tmp_0` [N, 1, 32, 32], a DB-style probability map, and `softmax_0.tmp_0` [N, 4], a
 * classifier head). Every weight and BatchNormalization parameter is the output of a `Constant`
 * node (no initializers at all), named after the Paddle parameter (`conv2d_0.w_0`,
 * `batch_norm_0.w_0`, ...) with nodes named `p2o.<Op>.<k>`. Inside: Conv (no bias) +
 * BatchNormalization; HardSwish as Add(3) → Clip(0, 6) → Div(6) → Mul(x); HardSigmoid as
 * Mul(0.2) → Add(0.5) → Clip(0, 1) in a squeeze-excitation block; Resize ×2 nearest (opset 11:
 * empty roi and scales as Constant inputs; opset 9: Upsample); ConvTranspose ×2; Sigmoid; a
 * MatMul with a Constant [32, 6] weight + Add, a Slice to 4 classes and Softmax.
 */
export function paddleOcrStyle(options: PaddleOcrStyleOptions): Model {
  const { seed, opset = 11 } = options;
  const rng = new Rng(seed);
  const b = new GraphBuilder('paddle-infer');
  const counters = new Map<string, number>();
  const nodeName = (op: string): string => {
    const k = counters.get(op) ?? 0;
    counters.set(op, k + 1);
    return `p2o.${op}.${k}`;
  };
  const constant = (name: string, t: Tensor): string => b.node('Constant', [], { value: t }, { name: nodeName('Constant'), outputNames: [name] });
  const scalar = (v: number): string => {
    const k = counters.get('scalar') ?? 0;
    counters.set('scalar', k + 1);
    return constant(`p2o.helper.constant.${k}`, f32(Float32Array.of(v), []));
  };
  const ints = (name: string, v: number[]): string => constant(name, tensor(BigInt64Array.from(v.map(BigInt)), [v.length], 'int64', { backend: 'cpu' }));
  const randn = (shape: number[], std: number, mean = 0): Tensor => {
    const n = shape.reduce((a, c) => a * c, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = mean + rng.normal() * std;
    return f32(a, shape);
  };
  const op = (type: string, inputs: string[], attrs: Record<string, number | number[] | string | Tensor> = {}, floats: string[] = []): string =>
    b.node(type, inputs, attrs, { name: nodeName(type), floatAttrs: floats });
  let convK = 0;
  let bnK = 0;
  const conv = (x: string, cin: number, cout: number, k: number, stride: number, bias: boolean): string => {
    const id = convK++;
    const w = constant(`conv2d_${id}.w_0`, randn([cout, cin, k, k], Math.sqrt(2 / (cin * k * k))));
    const inputs = [x, w];
    if (bias) inputs.push(constant(`conv2d_${id}.b_0`, randn([cout], 0.05)));
    const p = (k - 1) >> 1;
    return op('Conv', inputs, { dilations: [1, 1], group: 1, kernel_shape: [k, k], pads: [p, p, p, p], strides: [stride, stride] });
  };
  const bn = (x: string, c: number): string => {
    const id = bnK++;
    const gamma = constant(`batch_norm_${id}.w_0`, randn([c], 0.1, 1));
    const beta = constant(`batch_norm_${id}.b_0`, randn([c], 0.1));
    const mean = constant(`batch_norm_${id}.w_1`, randn([c], 0.1));
    const v = randn([c], 0.1, 1);
    const vd = v.dataSync() as Float32Array;
    for (let i = 0; i < vd.length; i++) vd[i] = Math.abs(vd[i]!) + 0.1;
    const variance = constant(`batch_norm_${id}.w_2`, v);
    return op('BatchNormalization', [x, gamma, beta, mean, variance], { epsilon: 1e-5, momentum: 0.9 }, ['epsilon', 'momentum']);
  };
  const clip = (x: string, lo: number, hi: number): string =>
    opset >= 11 ? op('Clip', [x, scalar(lo), scalar(hi)]) : op('Clip', [x], { min: lo, max: hi }, ['min', 'max']);
  const hardSwish = (x: string): string => op('Mul', [x, op('Div', [clip(op('Add', [x, scalar(3)]), 0, 6), scalar(6)])]);
  const hardSigmoid = (x: string): string => clip(op('Add', [op('Mul', [x, scalar(0.2)]), scalar(0.5)]), 0, 1);

  const x = b.input('x', 'float32', ['N', 3, 32, 32]);
  const s1 = hardSwish(bn(conv(x, 3, 16, 3, 2, false), 16)); // [N, 16, 16, 16]
  let h = bn(conv(s1, 16, 32, 3, 2, false), 32); // [N, 32, 8, 8]
  // squeeze-excitation with HardSigmoid gate
  const se = hardSigmoid(conv(op('Relu', [conv(op('GlobalAveragePool', [h]), 32, 8, 1, 1, true)]), 8, 32, 1, 1, true));
  const s2 = op('Mul', [h, se]);
  // FPN-style: reduce, upsample ×2, add the stride-2 feature
  h = op('Relu', [bn(conv(s2, 32, 16, 1, 1, false), 16)]);
  const scales = constant('p2o.helper.scales', f32(Float32Array.of(1, 1, 2, 2), [4]));
  if (opset >= 11) {
    const roi = constant('p2o.helper.roi', f32(new Float32Array(0), [0]));
    h = op('Resize', [h, roi, scales], { coordinate_transformation_mode: 'asymmetric', mode: 'nearest', nearest_mode: 'floor' });
  } else {
    h = op('Upsample', [h, scales], { mode: 'nearest' });
  }
  h = op('Add', [h, s1]);
  // DB head: ConvTranspose ×2 → BN → Relu → 1×1 Conv → Sigmoid
  const wt = constant('conv2d_transpose_0.w_0', randn([16, 8, 2, 2], Math.sqrt(2 / 64)));
  const bt = constant('conv2d_transpose_0.b_0', randn([8], 0.05));
  h = op('ConvTranspose', [h, wt, bt], { dilations: [1, 1], group: 1, kernel_shape: [2, 2], pads: [0, 0, 0, 0], strides: [2, 2] });
  h = op('Relu', [bn(h, 8)]);
  b.node('Sigmoid', [conv(h, 8, 1, 1, 1, true)], {}, { name: nodeName('Sigmoid'), outputNames: ['sigmoid_0.tmp_0'] });
  b.output('sigmoid_0.tmp_0', 'float32', ['N', 1, 32, 32]);
  // classifier head: pool → reshape → MatMul (Constant weight) + Add → Slice → Softmax
  let c = op('Reshape', [op('GlobalAveragePool', [s2]), ints('p2o.helper.shape', [-1, 32])]);
  c = op('MatMul', [c, constant('linear_0.w_0', randn([32, 6], Math.sqrt(1 / 32)))]);
  c = op('Add', [c, constant('linear_0.b_0', randn([6], 0.05))]);
  c = opset >= 11
    ? op('Slice', [c, ints('p2o.helper.starts', [0]), ints('p2o.helper.ends', [4]), ints('p2o.helper.axes', [1])])
    : op('Slice', [c], { axes: [1], starts: [0], ends: [4] });
  b.node('Softmax', [c], { axis: 1 }, { name: nodeName('Softmax'), outputNames: ['softmax_0.tmp_0'] });
  b.output('softmax_0.tmp_0', 'float32', ['N', 4]);
  return b.model([{ domain: '', version: opset }], { irVersion: opset >= 11 ? 6 : 4, producerName: 'PaddlePaddle', producerVersion: '' });
}
