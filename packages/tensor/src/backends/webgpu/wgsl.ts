import type { DType } from '../../dtype.js';
import type { GpuTensor } from './backend.js';

/** WGSL scalar type used to store a dtype. */
export function wgslType(dtype: DType): WgslScalar {
  if (dtype === 'float32' || dtype === 'float16' || dtype === 'float64' || dtype === 'bfloat16') return 'f32';
  return dtype === 'uint32' || dtype === 'uint64' ? 'u32' : 'i32';
}

/** The WGSL scalar types that hold tensor elements. */
export type WgslScalar = 'f32' | 'i32' | 'u32';

/** Threads per workgroup for element-wise style kernels. */
export const WG = 64;

/** Workgroup counts covering `n` threads of WG each (2-D when over the 65,535 limit). */
export function dispatch1D(n: number, wg = WG): [number, number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= 65535) return [groups, 1, 1];
  return [65535, Math.ceil(groups / 65535), 1];
}

/**
 * Runtime values for a program, bound as `u: array<i32>`. `add` returns the start index, which
 * is the same for every call with the same ranks, so it can go into the static WGSL.
 */
export class Uniforms {
  readonly values: number[] = [];
  add(...v: readonly number[]): number {
    const at = this.values.length;
    for (const x of v) this.values.push(x | 0);
    return at;
  }
  /** Append float32 values as bit patterns; read them in WGSL with `bitcast<f32>(u[k])`. */
  addF32(...v: readonly number[]): number {
    const at = this.values.length;
    const f = new Float32Array(v);
    const i = new Int32Array(f.buffer);
    for (const x of i) this.values.push(x);
    return at;
  }
}

export interface Binding {
  readonly name: string;
  readonly dtype: DType;
}

/** Declarations: inputs read-only, outputs read_write, then `u`. */
export function declareBindings(inputs: readonly Binding[], outputs: readonly Binding[]): string {
  const lines: string[] = [];
  let b = 0;
  for (const x of inputs) lines.push(`@group(0) @binding(${b++}) var<storage, read> ${x.name}: array<${wgslType(x.dtype)}>;`);
  for (const x of outputs) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${x.name}: array<${wgslType(x.dtype)}>;`);
  lines.push(`@group(0) @binding(${b}) var<storage, read> u: array<i32>;`);
  return lines.join('\n');
}

/**
 * A compute entry point over a linear index `idx` (i32) with an early return when
 * `idx >= limit` (a WGSL expression, usually `u[0]`).
 */
export function mainLinear(limit: string, body: string, wg = WG): string {
  return `
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = i32(gid.x + gid.y * nwg.x * ${wg}u);
  if (idx >= ${limit}) { return; }
${body}
}`;
}

/**
 * WGSL function `fnName(i: i32) -> i32` mapping a row-major linear index over the shape stored
 * at u[shapeAt..] (rank entries) to a storage offset with strides at u[stridesAt..] plus the
 * offset at u[offsetAt].
 */
export function offsetFn(fnName: string, rank: number, shapeAt: number, stridesAt: number, offsetAt: number): string {
  const lines = [`fn ${fnName}(i: i32) -> i32 {`, `  var r = i;`, `  var o = u[${offsetAt}];`];
  for (let d = rank - 1; d >= 0; d--) {
    lines.push(`  { let c = r % u[${shapeAt + d}]; r = r / u[${shapeAt + d}]; o = o + c * u[${stridesAt + d}]; }`);
  }
  lines.push('  return o;', '}');
  return lines.join('\n');
}

/** Expression converting a value of `from`'s storage type to `to`'s (with float16 rounding). */
export function castExpr(expr: string, from: DType, to: DType): string {
  const a = wgslType(from);
  const b = wgslType(to);
  let e = a === b ? expr : `${b}(${expr})`;
  // NaN is true: test the bits (SwiftShader compares NaN != 0.0 as false)
  if (to === 'bool') e = `select(0, 1, ${a === 'f32' ? `(bitcast<u32>(${expr}) & 0x7fffffffu) != 0u` : `${expr} != 0`})`;
  if (to === 'float16') e = roundF16(e);
  return e;
}

/**
 * Round an f32 expression to the nearest float16 value. pack2x16float is undefined outside the
 * half range, so overflow (|x| >= 65520) becomes a signed infinity and NaN passes through.
 */
export function roundF16(expr: string): string {
  const e = `(${expr})`;
  const bits = `bitcast<u32>${e}`;
  const rounded = `unpack2x16float(pack2x16float(vec2<f32>(${e}, 0.0))).x`;
  const inf = `bitcast<f32>(0x7f800000u | (${bits} & 0x80000000u))`;
  const isNan = `((${bits} & 0x7fffffffu) > 0x7f800000u)`;
  return `select(select(${rounded}, ${inf}, abs${e} >= 65520.0), ${e}, ${isNan})`;
}

/** Shorthand used by kernels to describe an input binding. */
export function bind(name: string, t: GpuTensor | { dtype: DType }): Binding {
  return { name, dtype: t.dtype };
}
