import type { Tensor } from '../tensor.js';
import { BackendError } from '../errors.js';

type BackwardFn = (root: Tensor, dy?: Tensor) => void;

// `Tensor.backward()` reaches the engine through this hook (the engine installs it when it is
// created) so tensor.ts need not import engine.ts, which imports tensor.ts to create tensors.
let impl: BackwardFn | null = null;

/** Install the backpropagation the engine implements (called once by `engine()`). */
export function setBackwardImpl(fn: BackwardFn): void {
  impl = fn;
}

/** Backpropagate from `root` with the installed engine. */
export function runBackward(root: Tensor, dy?: Tensor): void {
  if (!impl) throw new BackendError('backward(): no engine has been created yet');
  impl(root, dy);
}
