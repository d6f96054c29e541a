import type { BackendName } from './backend.js';
import { engine } from './engine.js';
import { ArgumentError, ShapeError } from './errors.js';
import type { Rng } from './rng.js';
import { type Shape, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

/** Nonlinearities {@link calculateGain} knows (torch.nn.init names). */
export type Nonlinearity = 'linear' | 'conv' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear, conv
 * and sigmoid, 5/3 for tanh, √2 for relu, √(2/(1 + a²)) for leaky_relu with slope `a`
 * (default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}

/** Fan-in and fan-out of a weight. */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/**
 * Fans of a weight shape as torch computes them: Gemm/MatMul weights [out, in] give
 * fanIn = in, fanOut = out; conv weights [out, in/group, kh, kw, …] multiply both by the
 * receptive field kh·kw·…. Rank < 2 throws (pass `fans` explicitly for other layouts).
 */
export function computeFans(shape: Shape): Fans {
  if (shape.length < 2) throw new ShapeError(`computeFans: need a weight of rank >= 2 ([out, in, ...]), got [${shape.join(',')}]`);
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Options shared by the initializers. */
export interface InitOptions {
  /** Backend of the result (default: the current backend). */
  backend?: BackendName;
  /** Override the fans computed from the shape (e.g. for a Gemm weight stored [in, out]). */
  fans?: Fans;
}

/** Options of {@link kaimingUniform} / {@link kaimingNormal} (torch defaults). */
export interface KaimingOptions extends InitOptions {
  /** Preserve the variance of the forward pass ('fanIn', default) or of the backward ('fanOut'). */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'leaky_relu' (torch's default), with slope `a`. */
  nonlinearity?: Nonlinearity;
  /** Negative slope for leaky_relu (default 0, which makes the gain √2 as for relu). */
  a?: number;
}

function kaimingStd(shape: Shape, opts: KaimingOptions): number {
  const fans = opts.fans ?? computeFans(shape);
  const fan = (opts.mode ?? 'fanIn') === 'fanIn' ? fans.fanIn : fans.fanOut;
  if (opts.mode !== undefined && opts.mode !== 'fanIn' && opts.mode !== 'fanOut') throw new ArgumentError(`kaiming: mode must be 'fanIn' or 'fanOut', got '${String(opts.mode)}'`);
  if (!(fan > 0)) throw new ShapeError(`kaiming: fan is ${fan} for shape [${shape.join(',')}]`);
  return calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) / Math.sqrt(fan);
}

function xavierStd(shape: Shape, gain: number, opts: InitOptions): number {
  const { fanIn, fanOut } = opts.fans ?? computeFans(shape);
  if (!(fanIn + fanOut > 0)) throw new ShapeError(`xavier: fans are 0 for shape [${shape.join(',')}]`);
  return gain * Math.sqrt(2 / (fanIn + fanOut));
}

function uniform(shape: Shape, rng: Rng, bound: number, backend: BackendName | undefined): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-bound, bound);
  return engine().fromStorage('float32', shape, v, backend);
}

function normal(shape: Shape, rng: Rng, std: number, backend: BackendName | undefined): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal(0, std);
  return engine().fromStorage('float32', shape, v, backend);
}

/** He/Kaiming uniform: U(−b, b) with b = gain·√(3/fan) (torch.nn.init.kaiming_uniform_). */
export function kaimingUniform(shape: Shape, rng: Rng, opts: KaimingOptions = {}): Tensor {
  return uniform(shape, rng, Math.sqrt(3) * kaimingStd(shape, opts), opts.backend);
}

/** He/Kaiming normal: N(0, std²) with std = gain/√fan (torch.nn.init.kaiming_normal_). */
export function kaimingNormal(shape: Shape, rng: Rng, opts: KaimingOptions = {}): Tensor {
  return normal(shape, rng, kaimingStd(shape, opts), opts.backend);
}

/** Glorot/Xavier uniform: U(−b, b) with b = gain·√(6/(fanIn + fanOut)). */
export function xavierUniform(shape: Shape, rng: Rng, opts: InitOptions & { gain?: number } = {}): Tensor {
  return uniform(shape, rng, Math.sqrt(3) * xavierStd(shape, opts.gain ?? 1, opts), opts.backend);
}

/** Glorot/Xavier normal: N(0, std²) with std = gain·√(2/(fanIn + fanOut)). */
export function xavierNormal(shape: Shape, rng: Rng, opts: InitOptions & { gain?: number } = {}): Tensor {
  return normal(shape, rng, xavierStd(shape, opts.gain ?? 1, opts), opts.backend);
}
