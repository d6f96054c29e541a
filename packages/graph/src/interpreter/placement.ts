import { type BackendName, type Tensor, toBackend, isInteger } from '@whittle/tensor';
import type { Node } from '../ir/types.js';
import { InterpreterError } from './errors.js';

/**
 * Where the interpreter keeps a value. GPU backends store int64 as 32-bit words, yet exporters
 * write 64-bit sentinels into shape and index tensors (torch's ±9223372036854775807 as Slice
 * ends, INT64_MAX as a Loop trip count). Such a tensor stays on the host (cpu backend): the
 * inputs an op reads on the host (Slice starts/ends, Reshape shape, ...) take it as is, small
 * integer computations on it (Concat, Unsqueeze, Gather of a shape, ...) run on the host, and
 * only a real GPU computation with it fails, with the backend's "does not fit" error.
 */

/** Largest tensor (elements) an integer op runs on the host for: shape and index vectors. */
export const HOST_INT_MAX_ELEMENTS = 64;

/** True when `t` can live on `backend`: anything but a 64-bit integer outside the 32-bit range on a GPU backend. */
export async function fitsOn(t: Tensor, backend: BackendName): Promise<boolean> {
  if (backend === 'cpu' || t.backend === backend) return true;
  if (t.dtype !== 'int64' && t.dtype !== 'uint64') return true;
  const d = (await t.data()) as BigInt64Array | BigUint64Array;
  const [lo, hi] = t.dtype === 'int64' ? [-2147483648n, 2147483647n] : [0n, 4294967295n];
  for (let i = 0; i < d.length; i++) if (d[i]! < lo || d[i]! > hi) return false;
  return true;
}

/** `t` on `backend`, or `t` itself (on the host) when it is a 64-bit integer the backend cannot store. */
export async function place(t: Tensor, backend: BackendName): Promise<Tensor> {
  if (t.backend === backend) return t;
  if (!(await fitsOn(t, backend))) return t;
  return toBackend(t, backend);
}

/** Inputs (by position) each op reads on the host as plain integers (or scalars): a host-resident tensor there needs no upload. */
const HOST_READ: Readonly<Record<string, readonly number[]>> = {
  Slice: [1, 2, 3, 4],
  Reshape: [1],
  Expand: [1],
  Tile: [1],
  Pad: [1, 3],
  Resize: [1, 2, 3],
  Upsample: [1],
  Squeeze: [1],
  Unsqueeze: [1],
  TopK: [1],
  ConstantOfShape: [0],
  Range: [0, 1, 2],
  Split: [1],
  CumSum: [1],
  Trilu: [1],
  Clip: [1, 2],
  OneHot: [1],
  ScatterElements: [1],
  ScatterND: [1],
};

/** Whether `node` reads input `k` on the host (see {@link HOST_READ}; every Reduce* reads its axes input there). */
export function readsOnHost(node: Node, k: number): boolean {
  const positions = HOST_READ[node.opType] ?? (node.opType.startsWith('Reduce') ? [1] : []);
  return positions.includes(k);
}

/**
 * Make a tensor op's inputs usable on `backend` when some are host-resident (see {@link place}).
 * Returns the inputs and the backend to run the op on: the host when every tensor input is a
 * small integer (shape-like) tensor, else `backend`, with host-resident inputs left where the
 * op reads them on the host and uploaded elsewhere (which fails for values that do not fit).
 */
export async function prepareInputs(
  node: Node,
  inputs: readonly (Tensor | undefined)[],
  backend: BackendName,
  where: string,
): Promise<{ inputs: (Tensor | undefined)[]; backend: BackendName }> {
  if (!inputs.some((t) => t !== undefined && t.backend !== backend)) return { inputs: [...inputs], backend };
  const shapeLike = inputs.every((t) => t === undefined || ((isInteger(t.dtype) || t.dtype === 'bool') && t.size <= HOST_INT_MAX_ELEMENTS));
  if (shapeLike) return { inputs: await Promise.all(inputs.map((t) => (t ? toBackend(t, 'cpu') : t))), backend: 'cpu' };
  const out: (Tensor | undefined)[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const t = inputs[k];
    if (t === undefined || t.backend === backend || readsOnHost(node, k)) {
      out.push(t);
      continue;
    }
    try {
      out.push(await toBackend(t, backend));
    } catch (e) {
      throw new InterpreterError(
        `${where}: input '${node.inputs[k]}' (${t.dtype} [${t.shape.join(',')}]) cannot be moved to ${backend}: ${e instanceof Error ? e.message : String(e)}; ` +
          `this op computes with it on the GPU, so run the model on the cpu backend`,
        { cause: e },
      );
    }
  }
  return { inputs: out, backend };
}
