import { wasmSgemmBytes } from './sgemm_wasm.js';

/**
 * Let this engine compile WebAssembly relaxed SIMD (part of Wasm 3.0; on by default from V8 11.4,
 * i.e. Node 22 and Chromium 114). Node 20's V8 implements it behind `--experimental-wasm-relaxed-simd`;
 * the flag is set only when the relaxed sgemm module does not validate already, before the WASM
 * tier instantiates (it does so lazily, on the first large MatMul). Returns whether relaxed SIMD
 * validates afterwards.
 */
export function enableRelaxedSimd(setFlags: (flags: string) => void): boolean {
  if (typeof WebAssembly === 'undefined') return false;
  const bytes = wasmSgemmBytes('relaxed-simd');
  if (WebAssembly.validate(bytes)) return true;
  setFlags('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}
