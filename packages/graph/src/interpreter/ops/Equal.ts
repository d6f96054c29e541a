import * as T from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { InterpreterError } from '../errors.js';
import { type RuntimeStrings, type RuntimeValue, isStrings, isTensor, kindOf } from '../value.js';

/** Byte-wise equality of two ONNX strings. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Broadcasting element-wise equality of two string tensors, as a bool tensor on `backend`. */
function equalStrings(a: RuntimeStrings, b: RuntimeStrings, backend: T.BackendName): T.Tensor {
  const shape = T.broadcastShapes(a.shape, b.shape);
  const n = shape.reduce((p, d) => p * d, 1);
  const sa = T.broadcastStrides(a.shape, T.contiguousStrides(a.shape), shape);
  const sb = T.broadcastStrides(b.shape, T.contiguousStrides(b.shape), shape);
  const out = new Uint8Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < shape.length; d++) {
      ia += idx[d]! * sa[d]!;
      ib += idx[d]! * sb[d]!;
    }
    out[i] = sameBytes(a.values[ia]!, b.values[ib]!) ? 1 : 0;
    for (let d = shape.length - 1; d >= 0 && ++idx[d]! === shape[d]; d--) idx[d] = 0;
  }
  return T.tensor(out, shape, 'bool', { backend });
}

/**
 * ONNX Equal with broadcasting: numeric and bool tensors on the backend's kernels; string
 * tensors (host-resident, see {@link RuntimeStrings}) compared byte for byte, the bool result
 * placed on the chosen backend.
 */
registerValueOp('Equal', ([a, b], ctx) => {
  if (isTensor(a) && isTensor(b)) return [T.equal(a, b)];
  if (isStrings(a) && isStrings(b)) return [equalStrings(a, b, ctx.backend)];
  const what = (v: RuntimeValue | undefined): string => (v === undefined ? 'missing' : kindOf(v));
  throw new InterpreterError(`Equal takes two tensors of one type; got ${what(a)} and ${what(b)}`);
});
