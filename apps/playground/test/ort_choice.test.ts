/** The choice of onnxruntime-web's execution provider from a WebGPU adapter's facts. */
import { describe, expect, test } from 'vitest';
import { type AdapterFacts, OrtRuntimeError, chooseOrtRuntime, softwareAdapter } from '../src/worker/ort_choice.js';

// what Chromium reports for these adapters (GPUAdapter.info)
const SWIFTSHADER: AdapterFacts = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: false };
const LLVMPIPE: AdapterFacts = { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' };
const WARP: AdapterFacts = { vendor: 'microsoft', architecture: '', description: 'Microsoft Basic Render Driver' };
const NVIDIA: AdapterFacts = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3060', isFallbackAdapter: false };
const APPLE: AdapterFacts = { vendor: 'apple', architecture: 'metal-3', description: '' };
const INTEL: AdapterFacts = { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770', type: 'integrated GPU' };

describe('chooseOrtRuntime', () => {
  test('auto: WebGPU on a hardware adapter, naming it', () => {
    for (const a of [NVIDIA, APPLE, INTEL]) expect(chooseOrtRuntime(a, 'auto').ep).toBe('webgpu');
    expect(chooseOrtRuntime(NVIDIA).reason).toBe('GPU adapter nvidia ampere (NVIDIA GeForce RTX 3060)');
    expect(chooseOrtRuntime(APPLE).reason).toBe('GPU adapter apple metal-3');
  });

  test('auto: wasm without an adapter', () => {
    expect(chooseOrtRuntime(null)).toEqual({ ep: 'wasm', reason: 'no WebGPU adapter' });
  });

  test('auto: wasm on software adapters, by name, type or the fallback flag', () => {
    expect(chooseOrtRuntime(SWIFTSHADER)).toEqual({ ep: 'wasm', reason: 'WebGPU adapter google swiftshader (SwiftShader Device (Subzero)) is a software one (swiftshader renders on the CPU): wasm is faster' });
    expect(chooseOrtRuntime(LLVMPIPE).ep).toBe('wasm');
    expect(chooseOrtRuntime(WARP).ep).toBe('wasm');
    expect(chooseOrtRuntime({ ...NVIDIA, isFallbackAdapter: true }).ep).toBe('wasm');
    expect(softwareAdapter({ ...NVIDIA, isFallbackAdapter: true })).toBe('the browser marks it as a fallback adapter');
    expect(chooseOrtRuntime({ vendor: 'x', type: 'CPU' }).ep).toBe('wasm');
    // a hardware vendor name that merely contains a software name's letters is not one
    expect(softwareAdapter({ vendor: 'qualcomm', description: 'Adreno (TM) 740, warpsize 64' })).toBeUndefined();
  });

  test('the user override wins, but WebGPU needs an adapter', () => {
    expect(chooseOrtRuntime(NVIDIA, 'wasm')).toEqual({ ep: 'wasm', reason: 'chosen' });
    expect(chooseOrtRuntime(SWIFTSHADER, 'webgpu').ep).toBe('webgpu');
    expect(() => chooseOrtRuntime(null, 'webgpu')).toThrow(OrtRuntimeError);
    expect(() => chooseOrtRuntime(null, 'webgpu')).toThrow(/no WebGPU adapter/);
  });
});
