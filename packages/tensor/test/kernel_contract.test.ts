import { describe, expect, it } from 'vitest';
import {
  BACKEND_ONLY, KERNEL_NAMES, NOT_DIFFERENTIABLE, RegistrationError, VIEW_NAMES, engine, getKernel, listGradients, listKernels,
  registerGradient, registerKernel, tensor,
} from '../src/index.js';

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('kernel contract (kernel_names.ts)', () => {
  it('cpu and webgpu register the same kernels: every contract name, minus declared one-backend kernels', () => {
    const onlyOn = (b: 'cpu' | 'webgpu'): string[] => Object.entries(BACKEND_ONLY).filter(([, v]) => v!.backend === b).map(([k]) => k);
    const others = (b: 'cpu' | 'webgpu'): string[] => Object.entries(BACKEND_ONLY).filter(([, v]) => v!.backend !== b).map(([k]) => k);
    for (const b of ['cpu', 'webgpu'] as const) {
      const want = sorted(KERNEL_NAMES.filter((n) => !others(b).includes(n)));
      expect(sorted(listKernels(b)), `${b} kernels`).toEqual(want);
      for (const n of onlyOn(b)) expect(listKernels(b)).toContain(n);
    }
  });

  it('every kernel has a gradient unless declared not differentiable, and every view has one', () => {
    const gradients = new Set(listGradients());
    const missing = KERNEL_NAMES.filter((n) => !gradients.has(n) && !(n in NOT_DIFFERENTIABLE));
    expect(missing, 'kernels without gradient and not in NOT_DIFFERENTIABLE').toEqual([]);
    const declaredButPresent = Object.keys(NOT_DIFFERENTIABLE).filter((n) => gradients.has(n as never));
    expect(declaredButPresent, 'in NOT_DIFFERENTIABLE but a gradient is registered').toEqual([]);
    for (const v of VIEW_NAMES) expect(gradients.has(v), `view ${v}`).toBe(true);
    const unknown = [...gradients].filter((n) => !(KERNEL_NAMES as readonly string[]).includes(n) && !(VIEW_NAMES as readonly string[]).includes(n));
    expect(unknown, 'gradients of names outside the contract').toEqual([]);
    for (const [name, reason] of Object.entries(NOT_DIFFERENTIABLE)) expect(reason, name).toMatch(/\w/);
  });

  it('registering a kernel or a gradient twice throws a RegistrationError naming it', () => {
    const add = getKernel('cpu', 'Add');
    expect(() => registerKernel(add)).toThrow(RegistrationError);
    expect(() => registerKernel(add)).toThrow(/kernel Add is already registered for backend cpu/);
    expect(() => registerGradient('Relu', ([dy]) => [dy])).toThrow(/gradient of Relu is already registered/);
  });

  it('an op passes its kernel the attributes the contract names (Gemm via the tape)', () => {
    const a = tensor([1, 2, 3, 4], [2, 2]).requireGrad();
    const b = tensor([1, 0, 0, 1], [2, 2]);
    const y = engine().run1('Gemm', [a, b], { alpha: 2, beta: 1, transA: false, transB: true });
    expect(y.gradNode?.attrs).toEqual({ alpha: 2, beta: 1, transA: false, transB: true });
    expect([...(y.dataSync() as Float32Array)]).toEqual([2, 4, 6, 8]);
  });
});
