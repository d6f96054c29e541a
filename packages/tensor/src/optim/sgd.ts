import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, checkNonNegative } from './optimizer.js';

/** Options of {@link SGD} (torch.optim.SGD defaults). */
export interface SgdOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient: g + weightDecay·p (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

interface SgdState {
  buf: Tensor | null;
}

/**
 * Stochastic gradient descent with optional momentum, Nesterov and weight decay, exactly as
 * torch.optim.SGD: g = ∇ + wd·p; buf = g on the first step, else μ·buf + (1 − dampening)·g;
 * g = nesterov ? g + μ·buf : buf; p ← p − lr·g. One fused kernel per parameter (cpu and webgpu).
 *
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 */
export class SGD extends Optimizer<SgdState> {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;

  constructor(params: Iterable<Tensor>, opts: SgdOptions) {
    super(params, opts.lr, 'SGD');
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    checkNonNegative('SGD', 'momentum', this.momentum);
    checkNonNegative('SGD', 'dampening', this.dampening);
    checkNonNegative('SGD', 'weightDecay', this.weightDecay);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ArgumentError('SGD: nesterov momentum requires momentum > 0 and dampening 0');
    }
  }

  protected update(p: Tensor, grad: Tensor): void {
    const st = this.state.get(p) ?? { buf: null };
    const first = st.buf === null;
    const attrs = { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov, first };
    const inputs = this.momentum !== 0 && st.buf ? [p, grad, st.buf] : [p, grad];
    const [buf] = this.commit(p, engine().runKernel('SgdUpdate', inputs, attrs));
    st.buf?.dispose();
    st.buf = buf ?? null;
    this.state.set(p, st);
  }

  protected disposeState(s: SgdState): void {
    s.buf?.dispose();
  }
}
