import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/**
 * Make `target` (a contiguous leaf such as a parameter) hold `value`'s elements, in place:
 * every holder of the `target` object sees the new values. See `Engine.assign`.
 */
export function assign(target: Tensor, value: Tensor): void {
  engine().assign(target, value);
}

/**
 * Base class of the optimizers. Holds the parameters (float32 contiguous leaf tensors that
 * require grad, on any backend), a settable learning rate `lr` and per-parameter state on the
 * parameter's backend. `step()` updates every parameter that has a `.grad` in place (the
 * tensor objects the model holds keep working); `zeroGrad()` clears the gradients.
 */
export abstract class Optimizer<S> {
  /** The parameters, deduplicated, in the order given. */
  readonly params: readonly Tensor[];
  /** Learning rate; change it between steps for schedules. */
  lr: number;
  /** Per-parameter state (moments, step counts), created on the first step of each parameter. */
  protected readonly state = new Map<Tensor, S>();

  constructor(params: Iterable<Tensor>, lr: number, protected readonly where: string) {
    checkNonNegative(where, 'lr', lr);
    this.lr = lr;
    const list = [...new Set(params)];
    if (!list.length) throw new ArgumentError(`${where}: no parameters given`);
    list.forEach((p, i) => {
      if (p.dtype !== 'float32') throw new DTypeError(`${where}: parameter ${i} ${p.toString()} is ${p.dtype}; optimizers update float32 parameters`);
      if (p.gradNode) throw new ArgumentError(`${where}: parameter ${i} ${p.toString()} is the result of an op, not a leaf tensor`);
      if (!p.isContiguous) throw new ShapeError(`${where}: parameter ${i} ${p.toString()} is a strided view; pass the contiguous tensor`);
      if (!p.requiresGrad) throw new ArgumentError(`${where}: parameter ${i} ${p.toString()} does not require grad; call requireGrad() on it`);
    });
    this.params = list;
  }

  /** Clear (and dispose) every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) {
      if (p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  /** Update every parameter that has a gradient, in place. Parameters without one are skipped. */
  step(): void {
    engine().noGrad(() => {
      for (const p of this.params) {
        const g = p.grad;
        if (!g) continue;
        if (g.backend !== p.backend) throw new ShapeError(`${this.where}: gradient of ${p.toString()} lives on ${g.backend}`);
        this.update(p, g);
      }
    });
  }

  /** Release all optimizer state (GPU buffers included). */
  dispose(): void {
    for (const s of this.state.values()) this.disposeState(s);
    this.state.clear();
  }

  protected abstract update(p: Tensor, grad: Tensor): void;
  protected abstract disposeState(s: S): void;

  /** Assign outputs[0] to `p` and return the remaining outputs (new state tensors). */
  protected commit(p: Tensor, outputs: Tensor[]): Tensor[] {
    const [np, ...rest] = outputs;
    engine().assign(p, np!);
    np!.dispose();
    return rest;
  }
}

export function checkNonNegative(where: string, name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new ArgumentError(`${where}: ${name} must be a finite number >= 0, got ${v}`);
}
