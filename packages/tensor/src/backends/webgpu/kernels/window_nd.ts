import type { WindowNd } from '../../../ops/window.js';
import type { Uniforms } from '../wgsl.js';

/**
 * Uniform layout of an N-d window over spatial sizes `dims`: per axis a, 7 values
 * [D, O, k, s, pb, pe, d] (input size, positions, kernel, stride, begin/end pad, dilation).
 */
export function addWindowNd(u: Uniforms, w: WindowNd, dims: readonly number[]): number {
  const n = w.kernel.length;
  const v: number[] = [];
  for (let a = 0; a < n; a++) v.push(dims[a]!, w.outShape[a]!, w.kernel[a]!, w.strides[a]!, w.pads[a]!, w.pads[a + n]!, w.dilations[a]!);
  return u.add(...v);
}

/** WGSL `let` lines naming the geometry stored by {@link addWindowNd} at `at`: D0, O0, k0, s0, pb0, pe0, d0, D1, ... */
export function windowNdLets(at: number, n: number): string {
  const names = ['D', 'O', 'k', 's', 'pb', 'pe', 'd'];
  const lines: string[] = [];
  for (let a = 0; a < n; a++) lines.push('  ' + names.map((m, i) => `let ${m}${a} = u[${at + 7 * a + i}];`).join(' '));
  return lines.join('\n');
}

/** WGSL lets splitting the flat row-major index `v` over sizes `${size}0..` into `${out}0..` and the rest `${rest}`. */
export function splitIndex(v: string, n: number, size: string, out: string, rest: string): string {
  const lines = [`  var r_ = ${v};`];
  for (let a = n - 1; a >= 0; a--) lines.push(`  let ${out}${a} = r_ % ${size}${a}; r_ = r_ / ${size}${a};`);
  lines.push(`  let ${rest} = r_;`);
  return lines.join('\n');
}

/** Row-major flat expression of per-axis indices `${idx}0..` over sizes `${size}0..`, starting from `lead`. */
export function flatIndex(lead: string, n: number, idx: string, size: string): string {
  let e = lead;
  for (let a = 0; a < n; a++) e = `(${e}) * ${size}${a} + ${idx}${a}`;
  return e;
}

/**
 * Nested WGSL loops over the kernel taps i0..i(n-1) in window order; `p${a}` is the input
 * coordinate of tap i_a of window position o_a, and out-of-range taps are skipped. `body`
 * runs for taps inside the input.
 */
export function tapLoops(n: number, body: string): string {
  let open = '';
  let close = '';
  for (let a = 0; a < n; a++) {
    open += `  for (var i${a} = 0; i${a} < k${a}; i${a}++) {\n    let p${a} = o${a} * s${a} - pb${a} + i${a} * d${a};\n    if (p${a} < 0 || p${a} >= D${a}) { continue; }\n`;
    close += '  }\n';
  }
  return `${open}${body}\n${close}`;
}

/**
 * Nested WGSL loops over the kernel taps that land on input position p0..p(n-1) (gather-style
 * adjoint of a window op): `q${a}` is the window position along axis a.
 */
export function adjointTapLoops(n: number, body: string): string {
  let open = '';
  let close = '';
  for (let a = 0; a < n; a++) {
    open += `  for (var i${a} = 0; i${a} < k${a}; i${a}++) {\n    let t${a} = p${a} + pb${a} - i${a} * d${a};\n    if (t${a} < 0 || t${a} % s${a} != 0 || t${a} / s${a} >= O${a}) { continue; }\n    let q${a} = t${a} / s${a};\n`;
    close += '  }\n';
  }
  return `${open}${body}\n${close}`;
}
