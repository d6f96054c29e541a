/** Slice `values` (shape) along `axis`, keeping `keep` indices in order. */
export function sliceAxis(values: Float32Array, shape: readonly number[], axis: number, keep: readonly number[]): { values: Float32Array; shape: number[] } {
  let pre = 1;
  let post = 1;
  for (let i = 0; i < axis; i++) pre *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) post *= shape[i]!;
  const len = shape[axis]!;
  const out = new Float32Array(pre * keep.length * post);
  let o = 0;
  for (let p = 0; p < pre; p++) {
    for (const k of keep) {
      const src = (p * len + k) * post;
      out.set(values.subarray(src, src + post), o);
      o += post;
    }
  }
  const s = [...shape];
  s[axis] = keep.length;
  return { values: out, shape: s };
}
