import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor/node';
import { describeBackends } from '../src/describe_backends.js';
import { DEFAULT_CASES_DIR, listCases, loadAllowlist, runConformance } from '../src/conformance/runner.js';
import { allowlistPath } from '../src/conformance/allowlist.js';
import { compareTensors } from '../src/conformance/compare.js';

/**
 * ONNX node-test conformance (onnx v1.22.0, 1,765 cases): every case not named in the
 * backend's allowlist must pass; the allowlist gives the reason for each exclusion. On webgpu
 * only the allowlist's representative `subset` runs (SwiftShader is slow).
 */
const haveCases = existsSync(DEFAULT_CASES_DIR);

describe('conformance allowlists', () => {
  it.runIf(haveCases)('name only existing cases, each with a reason', () => {
    const all = new Set(listCases());
    for (const backend of ['cpu', 'webgpu'] as const) {
      const list = loadAllowlist(allowlistPath(backend));
      for (const [name, why] of Object.entries(list.excluded)) {
        expect(all.has(name), `${backend} allowlist names unknown case ${name}`).toBe(true);
        expect(why.length, `${backend}: ${name} has no reason`).toBeGreaterThan(5);
      }
      for (const name of list.subset ?? []) expect(all.has(name), `${backend} subset names unknown case ${name}`).toBe(true);
    }
  });
});

/** The core ops Whittle runs (Conv … QLinearConv): every non-expanded node-test case using one of them must pass on both backends. */
const REQUIRED_OPS = new Set(
  ('Conv ConvTranspose Gemm MatMul BatchNormalization LayerNormalization Softmax LogSoftmax Relu LeakyRelu Gelu Sigmoid Tanh ' +
    'HardSigmoid HardSwish Clip Erf Pow Sqrt Add Sub Mul Div MaxPool AveragePool GlobalAveragePool Resize Reshape Flatten ' +
    'Squeeze Unsqueeze Transpose Concat Split Slice Gather Shape Cast Expand Where Equal ReduceMean ReduceSum ReduceMax ' +
    'ConstantOfShape Range Identity If LSTM QuantizeLinear DequantizeLinear DynamicQuantizeLinear MatMulInteger ConvInteger ' +
    'QLinearMatMul QLinearConv').split(' '),
);

describe('conformance allowlists: required ops', () => {
  it.runIf(haveCases)('exclude no non-expanded case of a core op', () => {
    for (const backend of ['cpu', 'webgpu'] as const) {
      const excluded = Object.keys(loadAllowlist(allowlistPath(backend)).excluded).filter((n) => !n.includes('expanded'));
      const required = excluded.filter((n) => readModel(readFileSync(join(DEFAULT_CASES_DIR, n, 'model.onnx'))).graph.nodes.some((node) => !node.domain && REQUIRED_OPS.has(node.opType)));
      expect(required, `${backend} excludes cases of required ops`).toEqual([]);
    }
  });
});

describe('compareTensors (numpy assert_allclose semantics)', () => {
  const f = (v: number[], dtype: 'float32' | 'int32' = 'float32') => tensor(v, [v.length], dtype, { backend: 'cpu' });
  it('accepts values within atol + rtol * |expected| and NaN against NaN', async () => {
    expect(await compareTensors(f([1.0005, NaN, -2]), f([1, NaN, -2]))).toBeNull();
  });
  it('rejects values outside the tolerance, NaN against a number, inf against a finite value', async () => {
    expect(await compareTensors(f([1.002]), f([1]))).toMatch(/1 of 1 elements differ/);
    expect(await compareTensors(f([NaN]), f([0]))).not.toBeNull();
    expect(await compareTensors(f([Infinity]), f([3e38]))).not.toBeNull();
  });
  it('compares integers exactly and checks dtype and shape', async () => {
    expect(await compareTensors(f([1000001], 'int32'), f([1000000], 'int32'))).not.toBeNull();
    expect(await compareTensors(f([1], 'int32'), f([1]))).toMatch(/dtype/);
    expect(await compareTensors(f([1, 2]), tensor([1, 2], [2, 1], 'float32', { backend: 'cpu' }))).toMatch(/shape/);
  });
});

describe.runIf(haveCases)('ONNX conformance', () => {
  describeBackends('node tests', ({ backend }) => {
    it('every case not in the allowlist passes', async () => {
      const allowlist = loadAllowlist(allowlistPath(backend));
      const subset = backend === 'cpu' ? undefined : allowlist.subset;
      const report = await runConformance({ backend, allowlist, ...(subset ? { filter: (n: string) => subset.includes(n) } : {}) });
      const { pass, fail, excluded, total } = report.counts;
      console.log(`[conformance ${backend}] ${pass} passed, ${fail} failed, ${excluded} excluded of ${total}`);
      const failures = report.results.filter((r) => r.status === 'fail').map((r) => `${r.name}: ${r.reason}`);
      expect(failures).toEqual([]);
      if (backend === 'cpu') expect(pass).toBeGreaterThanOrEqual(600);
    }, 600_000);
  });
});
