/**
 * The WebGPU adapter the forward passes may use, probed once in the worker: its facts decide
 * the execution provider ({@link chooseOrtRuntime}), and onnxruntime-web's WebGPU provider is
 * handed the same adapter so it runs where the facts came from.
 */
import type { AdapterFacts } from './ort_choice.js';

export interface ProbedAdapter {
  adapter: GPUAdapter;
  facts: AdapterFacts;
}

let probed: Promise<ProbedAdapter | null> | undefined;

function factsOf(a: GPUAdapter): AdapterFacts {
  // `type` is Dawn's non-standard adapter type; `isFallbackAdapter` moved from the adapter to its info
  const info = (a.info ?? {}) as GPUAdapterInfo & { type?: string; isFallbackAdapter?: boolean };
  const legacy = (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const fallback = info.isFallbackAdapter ?? legacy;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    ...(info.type ? { type: info.type } : {}),
    ...(fallback !== undefined ? { isFallbackAdapter: fallback } : {}),
  };
}

/** The adapter and its facts, or null when the browser has no WebGPU or gives no adapter. */
export function probeAdapter(): Promise<ProbedAdapter | null> {
  probed ??= (async () => {
    const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
    if (!gpu) return null;
    try {
      const adapter = await gpu.requestAdapter();
      return adapter ? { adapter, facts: factsOf(adapter) } : null;
    } catch {
      return null; // a browser that throws here has no usable adapter either
    }
  })();
  return probed;
}
