/**
 * torchvision CNNs as `torch.onnx.export` (torch >= 1.13, opset 14-17, eval mode) writes them:
 * ResNet-18 and MobileNetV2 with the exact topology, torch's node and initializer names, and
 * seeded weights of sensible scale (He init, valid BatchNorm statistics).
 */
import { GraphBuilder, type Model } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { f32, normal, torchConstant, torchNode, uniform } from './common.js';

/** Options of {@link torchvisionResnet18}. */
export interface ResnetFixtureOptions {
  seed?: number;
  /** Default opset import (14-17; default 17). */
  opset?: number;
  /**
   * Route some weights (every block's conv2 weight and fc.weight) through `Identity` nodes as
   * torch >= 1.13 does for renamed/deduplicated initializers (default true).
   */
  identityWeights?: boolean;
  /** BatchNorm folded into the Conv (torch's default constant folding in eval mode; default true). */
  foldedBn?: boolean;
  /** Input height and width (default 224; use e.g. 64 in tests). */
  height?: number;
  width?: number;
  /** Output classes (default 1000). */
  classes?: number;
}

/**
 * torch's scope of a module path: each prefix contributes the path from its last named
 * (non-index) segment, so `features.2.conv.0.0` → `/features/features.2/conv/conv.0/conv.0.0`.
 */
export function torchScope(path: string): string {
  const segs = path.split('.');
  const parts: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    let j = i;
    while (j > 0 && /^\d+$/.test(segs[j]!)) j--;
    parts.push(segs.slice(j, i + 1).join('.'));
  }
  return `/${parts.join('/')}`;
}

interface ConvSpec {
  /** torch module path of the conv ('layer1.0.conv1'), for unfolded weight names. */
  module: string;
  /** module path of the BatchNorm after it. */
  bn: string;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  group?: number;
  /** Extra factor on the weights (residual branch ends are scaled down to keep activations tame). */
  gain?: number;
}

/** Emits Conv(+BN) the way torch exports it, with either folded or unfolded BatchNorm. */
class TorchConvEmitter {
  private next: number;
  private identities = 0;
  constructor(
    private readonly b: GraphBuilder,
    private readonly rng: Rng,
    private readonly folded: boolean,
    firstId: number,
  ) {
    this.next = firstId;
  }

  /** Initializer name `onnx::Op_N` with a running N, as the exporter numbers folded constants. */
  onnxName(op: string): string {
    return `onnx::${op}_${this.next++}`;
  }

  /** Put `name` in the initializers, or behind an Identity node when `viaIdentity`. */
  weight(name: string, t: ReturnType<typeof f32>, viaIdentity: boolean, op: string): string {
    if (!viaIdentity) return this.b.initializer(name, t);
    const src = this.b.initializer(name, t);
    const out = this.onnxName(op);
    return this.b.node('Identity', [src], {}, { name: `Identity_${this.identities++}`, outputNames: [out] });
  }

  conv(x: string, s: ConvSpec, viaIdentity = false): string {
    const group = s.group ?? 1;
    const fanIn = (s.cin / group) * s.k * s.k;
    const w = normal(this.rng, s.cout * fanIn, Math.sqrt(2 / fanIn) * (s.gain ?? 1));
    const shape = [s.cout, s.cin / group, s.k, s.k];
    const attrs = { dilations: [1, 1], group, kernel_shape: [s.k, s.k], pads: [s.pad, s.pad, s.pad, s.pad], strides: [s.stride, s.stride] };
    if (this.folded) {
      const wName = this.weight(this.onnxName('Conv'), f32(w, shape), viaIdentity, 'Conv');
      const bName = this.b.initializer(this.onnxName('Conv'), f32(normal(this.rng, s.cout, 0.05), [s.cout]));
      return torchNode(this.b, torchScope(s.module), 'Conv', [x, wName, bName], attrs);
    }
    const wName = this.weight(`${s.module}.weight`, f32(w, shape), viaIdentity, 'Conv');
    const y = torchNode(this.b, torchScope(s.module), 'Conv', [x, wName], attrs);
    const c = s.cout;
    const gamma = this.b.initializer(`${s.bn}.weight`, f32(uniform(this.rng, c, 0.5, 1), [c]));
    const beta = this.b.initializer(`${s.bn}.bias`, f32(normal(this.rng, c, 0.05), [c]));
    const mean = this.b.initializer(`${s.bn}.running_mean`, f32(normal(this.rng, c, 0.05), [c]));
    const vr = this.b.initializer(`${s.bn}.running_var`, f32(uniform(this.rng, c, 0.5, 1.5), [c]));
    return torchNode(this.b, torchScope(s.bn), 'BatchNormalization', [y, gamma, beta, mean, vr], { epsilon: 1e-5, momentum: 0.9 }, { floatAttrs: ['epsilon', 'momentum'] });
  }
}

function modelOf(b: GraphBuilder, opset: number): Model {
  return b.model([{ domain: '', version: opset }], { irVersion: 8, producerName: 'pytorch', producerVersion: '2.1.0' });
}

/**
 * torchvision `resnet18()` as torch.onnx.export writes it: conv1 7x7/2 → relu → maxpool 3x3/2 →
 * 4 stages × 2 BasicBlocks (downsample 1x1/2 conv in the first block of stages 2-4) → global
 * average pool → Flatten → Gemm 512→classes. Node names like `/layer1/layer1.0/conv1/Conv`,
 * `/layer1/layer1.0/Add`, `/layer1/layer1.0/relu_1/Relu`; with `foldedBn` (default) the weights
 * are `onnx::Conv_193`, … (BN folded by the exporter), otherwise `layer1.0.conv1.weight` + a
 * BatchNormalization node with `layer1.0.bn1.*`. Input `input` [batch_size, 3, H, W], output
 * `output` [batch_size, classes].
 */
export function torchvisionResnet18(opts: ResnetFixtureOptions = {}): Model {
  const rng = new Rng(opts.seed ?? 0);
  const opset = opts.opset ?? 17;
  const viaId = opts.identityWeights ?? true;
  const classes = opts.classes ?? 1000;
  const b = new GraphBuilder('main_graph');
  const input = b.input('input', 'float32', ['batch_size', 3, opts.height ?? 224, opts.width ?? 224]);
  const e = new TorchConvEmitter(b, rng, opts.foldedBn ?? true, 193);
  let x = e.conv(input, { module: 'conv1', bn: 'bn1', cin: 3, cout: 64, k: 7, stride: 2, pad: 3 });
  x = torchNode(b, '/relu', 'Relu', [x]);
  x = torchNode(b, '/maxpool', 'MaxPool', [x], { ceil_mode: 0, dilations: [1, 1], kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  let cin = 64;
  for (let stage = 1; stage <= 4; stage++) {
    const cout = 64 * 2 ** (stage - 1);
    for (let blk = 0; blk < 2; blk++) {
      const stride = stage > 1 && blk === 0 ? 2 : 1;
      const mod = `layer${stage}.${blk}`;
      const scope = `/layer${stage}/${mod}`;
      let h = e.conv(x, { module: `${mod}.conv1`, bn: `${mod}.bn1`, cin, cout, k: 3, stride, pad: 1 });
      h = torchNode(b, `${scope}/relu`, 'Relu', [h]);
      h = e.conv(h, { module: `${mod}.conv2`, bn: `${mod}.bn2`, cin: cout, cout, k: 3, stride: 1, pad: 1, gain: 0.5 }, viaId);
      let skip = x;
      if (stride !== 1 || cin !== cout) {
        skip = e.conv(x, { module: `${mod}.downsample.0`, bn: `${mod}.downsample.1`, cin, cout, k: 1, stride, pad: 0 }, viaId);
      }
      const sum = torchNode(b, scope, 'Add', [h, skip]);
      x = torchNode(b, `${scope}/relu_1`, 'Relu', [sum]);
      cin = cout;
    }
  }
  x = torchNode(b, '/avgpool', 'GlobalAveragePool', [x]);
  x = torchNode(b, '', 'Flatten', [x], { axis: 1 });
  const fcW = e.weight('fc.weight', f32(normal(rng, classes * 512, Math.sqrt(1 / 512)), [classes, 512]), viaId, 'Gemm');
  const fcB = b.initializer('fc.bias', f32(normal(rng, classes, 0.01), [classes]));
  b.node('Gemm', [x, fcW, fcB], { alpha: 1, beta: 1, transB: 1 }, { name: '/fc/Gemm', outputNames: ['output'], floatAttrs: ['alpha', 'beta'] });
  b.output('output', 'float32', ['batch_size', classes]);
  return modelOf(b, opset);
}

/** Options of {@link torchvisionMobilenetV2}. */
export interface MobilenetFixtureOptions {
  seed?: number;
  /** Default opset import (14-17; default 17). */
  opset?: number;
  /** torchvision's `width_mult` (default 1.0). */
  width?: number;
  /** BatchNorm folded into the Conv (default true, as the exporter does in eval mode). */
  foldedBn?: boolean;
  height?: number;
  widthPx?: number;
  classes?: number;
}

/** torchvision's `_make_divisible(v, 8)`. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** torchvision MobileNetV2's inverted residual setting (t, c, n, s). */
export const MOBILENET_V2_SETTING: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * torchvision `mobilenet_v2(width_mult)` as torch.onnx.export writes it: features.0 Conv 3x3/2 +
 * ReLU6, 17 inverted residuals (1x1 expansion + ReLU6, depthwise 3x3 Conv with group = channels
 * + ReLU6, 1x1 projection, residual Add when stride 1 and in == out), features.18 1x1 Conv to
 * 1280 + ReLU6, GlobalAveragePool, Flatten, Gemm. ReLU6 is `Clip` whose min/max are inputs from
 * Constant nodes (0 and 6). Names like `/features/features.2/conv/conv.1/conv.1.0/Conv`.
 */
export function torchvisionMobilenetV2(opts: MobilenetFixtureOptions = {}): Model {
  const rng = new Rng(opts.seed ?? 0);
  const opset = opts.opset ?? 17;
  const width = opts.width ?? 1;
  const classes = opts.classes ?? 1000;
  const b = new GraphBuilder('main_graph');
  const input = b.input('input', 'float32', ['batch_size', 3, opts.height ?? 224, opts.widthPx ?? 224]);
  const e = new TorchConvEmitter(b, rng, opts.foldedBn ?? true, 539);
  const relu6 = (scope: string, x: string): string => {
    const lo = torchConstant(b, scope, f32([0], []));
    const hi = torchConstant(b, scope, f32([6], []));
    return torchNode(b, scope, 'Clip', [x, lo, hi]);
  };
  /** Conv2dNormActivation at module path `mod`: children mod.0 conv, mod.1 bn, mod.2 ReLU6. */
  const cna = (x: string, mod: string, cin: number, cout: number, k: number, stride: number, group = 1): string => {
    const h = e.conv(x, { module: `${mod}.0`, bn: `${mod}.1`, cin, cout, k, stride, pad: (k - 1) / 2, group });
    return relu6(torchScope(`${mod}.2`), h);
  };
  let inp = makeDivisible(32 * width);
  const last = makeDivisible(1280 * Math.max(1, width));
  let x = cna(input, 'features.0', 3, inp, 3, 2);
  let idx = 1;
  for (const [t, c, n, s] of MOBILENET_V2_SETTING) {
    const out = makeDivisible(c * width);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = Math.round(inp * t);
      const mod = `features.${idx}`;
      let h = x;
      let k = 0;
      if (t !== 1) {
        h = cna(h, `${mod}.conv.0`, inp, hidden, 1, 1);
        k = 1;
      }
      h = cna(h, `${mod}.conv.${k}`, hidden, hidden, 3, stride, hidden);
      const residual = stride === 1 && inp === out;
      h = e.conv(h, { module: `${mod}.conv.${k + 1}`, bn: `${mod}.conv.${k + 2}`, cin: hidden, cout: out, k: 1, stride: 1, pad: 0, ...(residual ? { gain: 0.5 } : {}) });
      x = residual ? torchNode(b, `/features/${mod}`, 'Add', [x, h]) : h;
      inp = out;
      idx++;
    }
  }
  x = cna(x, `features.${idx}`, inp, last, 1, 1);
  x = torchNode(b, '', 'GlobalAveragePool', [x]);
  x = torchNode(b, '', 'Flatten', [x], { axis: 1 });
  const w = b.initializer('classifier.1.weight', f32(normal(rng, classes * last, Math.sqrt(1 / last)), [classes, last]));
  const bias = b.initializer('classifier.1.bias', f32(normal(rng, classes, 0.01), [classes]));
  b.node('Gemm', [x, w, bias], { alpha: 1, beta: 1, transB: 1 }, { name: '/classifier/classifier.1/Gemm', outputNames: ['output'], floatAttrs: ['alpha', 'beta'] });
  b.output('output', 'float32', ['batch_size', classes]);
  return modelOf(b, opset);
}
