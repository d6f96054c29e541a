import { describe, expect, it } from 'vitest';
import { GraphBuilder, getPass } from '@whittle/graph';
import '@whittle/quantize';
import '@whittle/prune';
import { tensor } from '@whittle/tensor';
import { openCliData } from '../src/data.js';
import { checkLayerNameOptions, checkOpTypeOptions } from '../src/commands/options.js';
import { UsageError } from '../src/errors.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { whittleInProcess } from './in_process.js';

/** x [1, 4] → MatMul(W) → Relu → y: a model with op types MatMul and Relu. */
function tinyModel() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 4]);
  const w = b.initializer('W', tensor(new Float32Array(16).fill(0.5), [4, 4]));
  b.node('Relu', [b.node('MatMul', [x, w])], {}, { outputNames: ['y'] });
  b.output('y', 'float32', [1, 4]);
  return b.model();
}

describe('flags checked against the model before any pass runs', () => {
  const fields = getPass('quantize-dynamic').optionsSchema!.fields;

  it('an op type spelled in the wrong case is refused with its spelling (in the model or not)', () => {
    const m = tinyModel();
    expect(() => checkOpTypeOptions(m, { ops: ['matmul'] }, fields)).toThrow(UsageError);
    expect(() => checkOpTypeOptions(m, { ops: ['matmul'] }, fields)).toThrow(/--ops: op type 'matmul' is spelled 'MatMul'/);
    // Conv is not in this model, but it is an op type: the typo is caught all the same
    expect(() => checkOpTypeOptions(m, { excludeOps: ['conv'] }, fields)).toThrow(/--exclude-ops: op type 'conv' is spelled 'Conv'/);
  });

  it('an op type the model lacks is a note naming the model\'s op types; present ones pass silently', () => {
    const m = tinyModel();
    expect(checkOpTypeOptions(m, { ops: ['MatMul', 'Gemm', 'Foo'] }, fields)).toEqual(['--ops: the model has no Gemm, Foo nodes (its op types: MatMul, Relu)']);
    expect(checkOpTypeOptions(m, { ops: ['MatMul'], excludeOps: ['Relu'] }, fields)).toEqual([]);
    // options that are not op-type lists are not looked at
    expect(checkOpTypeOptions(m, { excludeNodes: ['matmul'] }, fields)).toEqual([]);
  });

  it('--data synthetic:<not a positive count> is a usage error, not a missing file', async () => {
    const m = tinyModel();
    for (const bad of ['synthetic:abc', 'synthetic:0', 'synthetic:-3', 'synthetic:']) {
      await expect(openCliData(bad, m, 'train')).rejects.toThrow(new UsageError(`--data ${bad}: synthetic data takes a positive sample count, e.g. synthetic:32`));
    }
    const ok = await openCliData('synthetic:3', m, 'train');
    expect(ok.source.kind).toBe('synthetic');
  });

  it('a layer name the model lacks (--exclude-nodes, --exclude, --layer-sparsity) is a note naming it; node, value and weight names pass', () => {
    const m = tinyModel();
    const node = m.graph.nodes.find((n) => n.opType === 'MatMul')!.name;
    expect(checkLayerNameOptions(m, { excludeNodes: [node, 'fc9'] }, getPass('quantize-weights').optionsSchema!.fields)).toEqual([
      "--exclude-nodes: the model has no node, value or weight named 'fc9' (see 'whittle inspect' for its layer names)",
    ]);
    const prune = getPass('prune-unstructured').optionsSchema!.fields;
    expect(checkLayerNameOptions(m, { exclude: ['W', 'y'], layerSparsity: { [node]: 0.3 } }, prune)).toEqual([]);
    expect(checkLayerNameOptions(m, { layerSparsity: { Matmul_0: 0.3 } }, prune)).toEqual(["--layer-sparsity: the model has no node, value or weight named 'Matmul_0' (see 'whittle inspect' for its layer names)"]);
  });

  it('--data mnist on a model whose input is not an MNIST image is a usage error naming the input', async () => {
    await expect(openCliData('mnist', tinyModel(), 'train')).rejects.toThrow(UsageError);
    await expect(openCliData('mnist', tinyModel(), 'train')).rejects.toThrow(/--data mnist does not fit this model: the model's input 'x' is \[1, 4\], MNIST images are \[N, 1, 28, 28\]/);
    const b = new GraphBuilder();
    b.node('Add', [b.input('a', 'float32', [1, 784]), b.input('b', 'float32', [1, 784])], {}, { outputNames: ['y'] });
    b.output('y', 'float32', [1, 784]);
    await expect(openCliData('mnist', b.model(), 'test')).rejects.toThrow(/the model takes 2 inputs \('a', 'b'\), MNIST gives one image per sample/);
  });
});

describe('inspect --dims', () => {
  it('sizes named dynamic dims in the FLOPs estimate; an unknown name or a bad size is a usage error', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeModelFile } = await import('@whittle/onnx/node');
    const { whittleInProcess } = await import('./in_process.js');
    // x [N, 3, H, W] → 3x3 Conv with 8 filters, pads 1: 8·3·9 multiply-adds per pixel
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3, 'H', 'W']);
    const w = b.initializer('w', tensor(new Float32Array(8 * 3 * 9).fill(0.1), [8, 3, 3, 3]));
    b.node('Conv', [x, w], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }, { outputNames: ['y'] });
    b.output('y', 'float32', ['N', 8, 'H', 'W']);
    const dir = mkdtempSync(join(tmpdir(), 'whittle-dims-'));
    try {
      const file = join(dir, 'conv.onnx');
      await writeModelFile(b.model(), file);
      const plain = await whittleInProcess('inspect', file);
      expect(plain.stdout.split('\n')[0]).toMatch(/~432 FLOPs \(216 multiply-adds\) per sample \(dynamic input dims taken as 1: x axes 2, 3; --dims sizes named ones\)$/);
      const sized = await whittleInProcess('inspect', file, '--dims', 'H=32,W=48');
      expect(sized.code).toBe(0);
      expect(sized.stdout.split('\n')[0]).toMatch(new RegExp(`~${2 * 216 * 32 * 48} FLOPs \\(${216 * 32 * 48} multiply-adds\\) per sample$`));
      const unknown = await whittleInProcess('inspect', file, '--dims', 'height=32');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no dim named 'height' \(named dims: N, H, W\)/);
      expect((await whittleInProcess('inspect', file, '--dims', 'H=0')).stderr).toMatch(/'H=0' is not name=positive-integer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad option value is a usage error named by its flag (exit 2), before any work and with no output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whittle-flags-'));
    try {
      const lenet = fileURLToPath(new URL('../assets/lenet300100.onnx', import.meta.url));
      const out = join(dir, 'o.onnx');
      for (const [args, message] of [
        [['--bits', '9'], /whittle: UsageError: --bits must be <= 8, got 9/],
        // MatMulNBits and GatherBlockQuantized take power-of-two blocks (onnxruntime refused the output after all the work)
        [['--format', 'matmulnbits', '--block-size', '48'], /whittle: UsageError: --block-size must be a power of two \(16, 32, 64, 128 or 256\) for format 'matmulnbits', got 48; format 'qdq' takes any block size/],
      ] as const) {
        const r = await whittleInProcess('quantize', 'weights', lenet, '-o', out, ...args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(existsSync(out)).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
