/**
 * Node-only entry: registers WebGPU through the npm `webgpu` package (Dawn). On Linux machines
 * without a GPU it points Vulkan at SwiftShader when Debian's chromium ships it, unless
 * VK_ICD_FILENAMES is already set. On Node 20, whose V8 has WebAssembly relaxed SIMD only behind
 * a flag, it turns that flag on so the cpu MatMul tier can use fused multiply-add (set
 * `WHITTLE_WASM_RELAXED_SIMD=0` to keep plain SIMD).
 *
 * ```ts
 * import '@whittle/tensor/node';
 * await setBackend('webgpu');
 * ```
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { setWebGpuProvider } from './backends/webgpu/init.js';
import { enableRelaxedSimd } from './wasm/relaxed_simd_node.js';

/** Where Debian's chromium package puts the SwiftShader Vulkan ICD. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** True when this machine is expected to provide a WebGPU adapter (SwiftShader or forced). */
export function webGpuExpected(): boolean {
  return process.env.WHITTLE_EXPECT_WEBGPU === '1' || existsSync(SWIFTSHADER_ICD) || !!process.env.VK_ICD_FILENAMES;
}

let gpuPromise: Promise<GPU | undefined> | null = null;

async function nodeGpu(): Promise<GPU | undefined> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), 'whittle-xdg');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  let mod: { create: (opts: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch {
    return undefined; // package not installed: the backend reports "no navigator.gpu"
  }
  Object.assign(globalThis, mod.globals);
  return mod.create([]);
}

setWebGpuProvider(() => (gpuPromise ??= nodeGpu()));
if (process.env.WHITTLE_WASM_RELAXED_SIMD !== '0') enableRelaxedSimd(setFlagsFromString);

export * from './index.js';
