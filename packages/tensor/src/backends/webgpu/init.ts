import { BackendError } from '../../errors.js';
import { WebGpuBackend } from './backend.js';

type GpuProvider = () => Promise<GPU | undefined>;

let provider: GpuProvider = async () => (typeof navigator !== 'undefined' ? navigator.gpu : undefined);

/** Replace how the `GPU` object is obtained (the Node entry installs Dawn's). */
export function setWebGpuProvider(p: GpuProvider): void {
  provider = p;
}

/** Create the webgpu backend or throw a BackendError saying why there is none. */
export async function createWebGpuBackend(): Promise<WebGpuBackend> {
  const gpu = await provider();
  if (!gpu) throw new BackendError('webgpu: this environment has no navigator.gpu (in Node import "@whittle/tensor/node" and install the "webgpu" package)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    // browsers and Node fail here for different reasons; say the one that applies
    const inBrowser = typeof window !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
    throw new BackendError(
      inBrowser
        ? 'webgpu: the browser exposes WebGPU but gave no adapter (GPU blocklisted or disabled; in headless Chromium add --enable-unsafe-webgpu --enable-unsafe-swiftshader); use the cpu backend'
        : 'webgpu: no GPU adapter found (in Node on Linux, a Vulkan driver such as SwiftShader is needed: see DESIGN.md)',
    );
  }
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
    },
  });
  const info = adapter.info;
  const description = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') : 'unknown adapter';
  return new WebGpuBackend(device, description || 'unknown adapter');
}
