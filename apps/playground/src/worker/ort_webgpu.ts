/**
 * onnxruntime-web's WebGPU build, loaded only when the WebGPU execution provider is chosen (its
 * 27 MB .wasm is fetched on first use, from this app's own origin like the wasm build's).
 */
import * as ort from 'onnxruntime-web/webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';

let configured = false;

/** The module, configured for one thread and the given adapter. */
export function ortWebGpu(adapter: GPUAdapter): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, self.location.href).href };
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    ort.env.webgpu.adapter = adapter;
    configured = true;
  }
  return ort;
}
