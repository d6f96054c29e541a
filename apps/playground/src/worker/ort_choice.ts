/**
 * Which onnxruntime-web execution provider runs the forward passes (evaluation, sensitivity):
 * WebGPU on a real GPU, wasm otherwise. A software adapter (SwiftShader, llvmpipe, WARP, or one
 * the browser flags as a fallback) runs WebGPU shaders on the CPU and is slower than ort's own
 * SIMD wasm kernels, so 'auto' never picks it. Pure: the worker feeds it the adapter's facts.
 */
import { WhittleError } from '@whittle/tensor';

/** What the user asked for: 'auto' decides from the adapter. */
export type OrtChoice = 'auto' | 'wasm' | 'webgpu';

/** The facts of a WebGPU adapter that matter here (from `GPUAdapter.info` and `isFallbackAdapter`). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** Dawn's non-standard adapter type ('discrete GPU', 'integrated GPU', 'CPU', 'unknown'), when exposed. */
  type?: string;
  isFallbackAdapter?: boolean;
}

/** The provider to use and why, for the page to show. */
export interface OrtPick {
  ep: 'wasm' | 'webgpu';
  reason: string;
}

/** A forced WebGPU provider without an adapter: an error, never a silent fallback. */
export class OrtRuntimeError extends WhittleError {
  constructor(message: string) {
    super('E_ORT_RUNTIME', message);
  }
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** One line naming the adapter ('google swiftshader (SwiftShader Device)'). */
export function adapterLabel(a: AdapterFacts): string {
  const head = [a.vendor, a.architecture].filter((s) => s).join(' ') || 'unknown adapter';
  const tail = a.description || a.device;
  return tail ? `${head} (${tail})` : head;
}

/** Why an adapter is a software one, or undefined for a real GPU. */
export function softwareAdapter(a: AdapterFacts): string | undefined {
  if (a.isFallbackAdapter) return 'the browser marks it as a fallback adapter';
  if (a.type && /^cpu$/i.test(a.type.trim())) return 'it is a CPU adapter';
  const hit = [a.vendor, a.architecture, a.device, a.description].find((s) => s && SOFTWARE.test(s));
  return hit ? `${SOFTWARE.exec(hit)![0]} renders on the CPU` : undefined;
}

/**
 * Pick the execution provider: the user's choice when not 'auto' (a forced 'webgpu' needs an
 * adapter), else WebGPU on a hardware adapter and wasm when there is none or it is software.
 */
export function chooseOrtRuntime(adapter: AdapterFacts | null, choice: OrtChoice = 'auto'): OrtPick {
  if (choice === 'wasm') return { ep: 'wasm', reason: 'chosen' };
  if (choice === 'webgpu') {
    if (!adapter) throw new OrtRuntimeError('the WebGPU execution provider was chosen but this browser gives no WebGPU adapter');
    return { ep: 'webgpu', reason: `chosen; adapter ${adapterLabel(adapter)}` };
  }
  if (!adapter) return { ep: 'wasm', reason: 'no WebGPU adapter' };
  const soft = softwareAdapter(adapter);
  if (soft) return { ep: 'wasm', reason: `WebGPU adapter ${adapterLabel(adapter)} is a software one (${soft}): wasm is faster` };
  return { ep: 'webgpu', reason: `GPU adapter ${adapterLabel(adapter)}` };
}
