import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import { zerosLike } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, checkNonNegative } from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW} (torch defaults). */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Moment decay rates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0 for Adam — L2 added to the gradient; 1e-2 for AdamW — decoupled). */
  weightDecay?: number;
}

interface AdamState {
  step: number;
  m: Tensor;
  v: Tensor;
}

/**
 * Adam (Kingma & Ba) exactly as torch.optim.Adam: g = ∇ + wd·p; m = β₁m + (1−β₁)g;
 * v = β₂v + (1−β₂)g²; p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps). One fused kernel per
 * parameter computes the new parameter and both moments (cpu and webgpu).
 */
export class Adam extends Optimizer<AdamState> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  protected readonly decoupled: boolean = false;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, where = 'Adam', defaultDecay = 0) {
    super(params, opts.lr ?? 1e-3, where);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? defaultDecay;
    for (const [n, b] of [['betas[0]', this.beta1], ['betas[1]', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new ArgumentError(`${where}: ${n} must be in [0, 1), got ${b}`);
    }
    checkNonNegative(where, 'eps', this.eps);
    checkNonNegative(where, 'weightDecay', this.weightDecay);
  }

  protected update(p: Tensor, grad: Tensor): void {
    const st = this.state.get(p) ?? { step: 0, m: zerosLike(p), v: zerosLike(p) };
    st.step++;
    const attrs = {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
      bc1: 1 - this.beta1 ** st.step,
      bc2: 1 - this.beta2 ** st.step,
    };
    const [m, v] = this.commit(p, engine().runKernel('AdamUpdate', [p, grad, st.m, st.v], attrs));
    st.m.dispose();
    st.v.dispose();
    st.m = m!;
    st.v = v!;
    this.state.set(p, st);
  }

  protected disposeState(s: AdamState): void {
    s.m.dispose();
    s.v.dispose();
  }
}

/**
 * AdamW (Loshchilov & Hutter) as torch.optim.AdamW: the weight decay is decoupled from the
 * gradient — p ← p·(1 − lr·wd) before the Adam step. Default weightDecay 1e-2.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'AdamW', 1e-2);
  }
}
