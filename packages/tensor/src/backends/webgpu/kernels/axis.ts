/** outer × D × inner decomposition of a contiguous shape around `axis`. */
export function axisDims(shape: readonly number[], axis: number): { outer: number; d: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, d: shape[axis] ?? 1, inner };
}

/** WGSL prelude: `rows = u[0]` lines, `d = u[1]`, `inner = u[2]`; `base` is the line's first element. */
export const LINE_PRELUDE = `  let d = u[1];
  let inner = u[2];
  let base = (idx / inner) * d * inner + idx % inner;`;
