import { IM2COL_WASM_BASE64 } from './im2col_bytes.js';
import { wasmScratch } from './sgemm_wasm.js';

type Im2colFn = (src: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, OH: number, OW: number, dst: number) => void;

/** Geometry of one 2-D unfold: kernel, window strides, dilations, top/left pads and output size. */
export interface UnfoldGeometry {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly pt: number;
  readonly pl: number;
  readonly OH: number;
  readonly OW: number;
}

/** Largest image + columns staged in linear memory (floats); bigger unfolds run in JS. */
const MAX_FLOATS = 128 * 1024 * 1024;

let module: WebAssembly.Module | null | undefined;
let enabled = true;

/** Turn the WASM unfold/fold off (tests compare them with the JS loops); returns the previous setting. */
export function setWasmIm2col(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}
/** The instance bound to the sgemm tier's current memory (re-made when that memory changes). */
let bound: { memory: WebAssembly.Memory; fns: Fns } | null = null;

interface Fns {
  readonly im2col: Im2colFn;
  /** Same signature: src is the columns, dst the image. */
  readonly col2im: Im2colFn;
}

function instance(memory: WebAssembly.Memory): Fns | null {
  if (bound?.memory === memory) return bound.fns;
  if (module === undefined) {
    try {
      const bin = atob(IM2COL_WASM_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      module = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      module = null;
    }
  }
  if (!module) return null;
  const fns = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Fns;
  bound = { memory, fns };
  return fns;
}

/**
 * Unfold one image [C, H, W] (element (c, h, w) at src[off + c*sC + h*sH + w*sW]) into
 * out[outOff ..] as [C*kh*kw, OH*OW] (row (c*kh + i)*kw + j, zeros in the padding) with the WASM
 * module. Returns false, doing nothing, when WASM cannot run here or the unfold is too large.
 */
export function wasmIm2col(src: Float32Array, off: number, strides: readonly [number, number, number], C: number, H: number, W: number, g: UnfoldGeometry, out: Float32Array, outOff: number): boolean {
  const image = C * H * W;
  const cols = C * g.kh * g.kw * g.OH * g.OW;
  if (!enabled || image + cols > MAX_FLOATS) return false;
  const s = wasmScratch((image + cols) * 4);
  if (!s) return false;
  const fns = instance(s.memory);
  if (!fns) return false;
  const heap = s.heap;
  const fImg = s.base / 4;
  const fCol = fImg + image;
  stageImage(heap, fImg, src, off, strides, C, H, W);
  fns.im2col(fImg * 4, C, H, W, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW, fCol * 4);
  out.set(heap.subarray(fCol, fCol + cols), outOff);
  return true;
}

/**
 * Unfold one image like {@link wasmIm2col} but leave the columns in linear memory for the WASM
 * sgemm to read in place ({@link wasmSgemmResident}): returns the float index of the columns and
 * the end of the region used, or null when WASM cannot run here or the unfold is too large.
 * @internal
 */
export function wasmIm2colResident(src: Float32Array, off: number, strides: readonly [number, number, number], C: number, H: number, W: number, g: UnfoldGeometry): { at: number; end: number } | null {
  const image = C * H * W;
  const cols = C * g.kh * g.kw * g.OH * g.OW;
  if (!enabled || image + cols > MAX_FLOATS) return null;
  const s = wasmScratch((image + cols) * 4);
  if (!s) return null;
  const fns = instance(s.memory);
  if (!fns) return null;
  const fImg = s.base / 4;
  const fCol = fImg + image;
  stageImage(s.heap, fImg, src, off, strides, C, H, W);
  fns.im2col(fImg * 4, C, H, W, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW, fCol * 4);
  return { at: fCol, end: fCol + cols };
}

/** Copy image [C, H, W] (any strides) contiguous into the heap at float index `at`. */
function stageImage(heap: Float32Array, at: number, src: Float32Array, off: number, [sC, sH, sW]: readonly [number, number, number], C: number, H: number, W: number): void {
  if (sW === 1 && sH === W && sC === H * W) heap.set(src.subarray(off, off + C * H * W), at);
  else {
    let o = at;
    for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0, p = off + c * sC + h * sH; w < W; w++, p += sW) heap[o++] = src[p]!;
  }
}

/**
 * Fold one column block [C*kh*kw, OH*OW] (element (r, q) at src[off + r*sK + q*sL]) into
 * out[outOff ..] as the image [C, H, W], summing overlapping taps (the adjoint of
 * {@link wasmIm2col}). Returns false, doing nothing, when WASM cannot run here or it is too large.
 */
export function wasmCol2im(src: Float32Array, off: number, sK: number, sL: number, C: number, H: number, W: number, g: UnfoldGeometry, out: Float32Array, outOff: number): boolean {
  const image = C * H * W;
  const rows = C * g.kh * g.kw;
  const L = g.OH * g.OW;
  if (!enabled || image + rows * L > MAX_FLOATS) return false;
  const s = wasmScratch((image + rows * L) * 4);
  if (!s) return false;
  const fns = instance(s.memory);
  if (!fns) return false;
  const heap = s.heap;
  const fCol = s.base / 4;
  const fImg = fCol + rows * L;
  if (sL === 1 && sK === L) heap.set(src.subarray(off, off + rows * L), fCol);
  else {
    let o = fCol;
    for (let r = 0; r < rows; r++) for (let q = 0, p = off + r * sK; q < L; q++, p += sL) heap[o++] = src[p]!;
  }
  fns.col2im(fCol * 4, C, H, W, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW, fImg * 4);
  out.set(heap.subarray(fImg, fImg + image), outOff);
  return true;
}
