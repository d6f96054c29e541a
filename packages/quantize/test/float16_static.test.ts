/**
 * convert-float16 without calibration data, inside an If branch (where a measurement does not
 * reach), on what a dynamic-int8 Optimum decoder holds: MatMulInteger accumulators far beyond
 * 65504 before their rescale, and a ConstantOfShape attention-mask fill (-3.4e38) multiplied by a
 * 0/1 keep mask before it reaches the scores. Reference: onnxruntime on the float32 model.
 */
import { describe, expect, it } from 'vitest';
import { type Graph, type Model, GraphBuilder, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { convertFloat16Pass } from '../src/float16.js';
import { ortRun, relError } from './helpers.js';

const K = 16;
const N = 8;
const S = 4;

/** One branch: y = rescaled MatMulInteger(DynamicQuantizeLinear(x), W) + bias; p = Softmax(scores + keep * triu(fill)). */
function branch(tag: string, w: Int8Array): Graph {
  const b = new GraphBuilder(`${tag}_branch`);
  const n = (op: string, inputs: string[], attrs: Record<string, unknown> = {}, outputs = 1): string[] =>
    b.nodeOutputs(op, inputs, attrs as never, { name: `${tag}/${op}`, outputNames: Array.from({ length: outputs }, (_, i) => `${tag}/${op}_out${i}`) });
  const constant = (t: ReturnType<typeof tensor>): string => b.nodeOutputs('Constant', [], { value: t }, { name: b.fresh(`${tag}/Constant`) })[0]!;
  const [xq, xs, xz] = n('DynamicQuantizeLinear', ['x'], {}, 3) as [string, string, string];
  const wq = constant(tensor(w, [K, N], 'int8', { backend: 'cpu' }));
  const wz = constant(tensor(new Int8Array([0]), [], 'int8', { backend: 'cpu' }));
  const acc = n('MatMulInteger', [xq, wq, xz, wz])[0]!;
  const accF = n('Cast', [acc], { to: 1 })[0]!;
  const scale = b.nodeOutputs('Mul', [xs, constant(tensor(new Float32Array([0.002]), [], 'float32', { backend: 'cpu' }))], {}, { name: `${tag}/scale` })[0]!;
  const rescaled = b.nodeOutputs('Mul', [accF, scale], {}, { name: `${tag}/rescale` })[0]!;
  const y = b.nodeOutputs('Add', [rescaled, b.initializer(`${tag}/bias`, tensor(Float32Array.from({ length: N }, (_, i) => i / N), [N], 'float32', { backend: 'cpu' }))], {}, { name: `${tag}/bias_add` })[0]!;
  const fill = n('ConstantOfShape', [constant(tensor(BigInt64Array.from([S, S].map(BigInt)), [2], 'int64', { backend: 'cpu' }))], { value: tensor(new Float32Array([-3.4028234663852886e38]), [1], 'float32', { backend: 'cpu' }) })[0]!;
  const causal = n('Trilu', [fill, constant(tensor(new BigInt64Array([1n]), [], 'int64', { backend: 'cpu' }))], { upper: 1 })[0]!;
  const mask = b.nodeOutputs('Mul', [causal, 'keep'], {}, { name: `${tag}/mask` })[0]!;
  const p = n('Softmax', [n('Add', ['scores', mask])[0]!], { axis: -1 })[0]!;
  b.output(y, 'float32', [S, N]);
  b.output(p, 'float32', [S, S]);
  return b.build();
}

function model(): Model {
  const rng = new Rng(3);
  // weights near the int8 maximum: with inputs in [0, 1] (zero point 0) the int32 sums are ~2.5e5
  const w = Int8Array.from({ length: K * N }, () => 100 + Math.floor(rng.uniform() * 28));
  const b = new GraphBuilder('main');
  b.input('x', 'float32', [S, K]);
  b.input('scores', 'float32', [S, S]);
  b.input('keep', 'float32', [S, S]);
  b.input('flag', 'int64', [1]);
  const cond = b.node('Cast', ['flag'], { to: 9 }, { name: 'cond' });
  b.nodeOutputs('If', [cond], { then_branch: branch('then', w), else_branch: branch('else', w) }, { name: 'if', outputNames: ['y', 'p'] });
  b.output('y', 'float32', [S, N]);
  b.output('p', 'float32', [S, S]);
  return b.model([{ domain: '', version: 14 }], { irVersion: 8 });
}

function feeds(flag: number) {
  const rng = new Rng(5);
  const x = Float32Array.from({ length: S * K }, () => rng.uniform());
  const scores = Float32Array.from({ length: S * S }, () => rng.normal());
  // the keep mask zeroes a masked (upper-triangle) entry, as a padding or cache-position mask does
  const keep = new Float32Array(S * S).fill(1);
  keep[1] = 0;
  return { x: { data: x, dims: [S, K] }, scores: { data: scores, dims: [S, S] }, keep: { data: keep, dims: [S, S] }, flag: { data: new BigInt64Array([BigInt(flag)]), dims: [1] } };
}

describe('convert-float16 without data inside If branches', () => {
  it('integer accumulators are cast and rescaled in float32; the mask fill and its readers up to the Softmax stay float32', async () => {
    const m = model();
    const { model: h, report } = await runPass(convertFloat16Pass, m, {});
    // per branch: the Cast, the rescaling Mul and the scale product
    expect((report.details!.integerAccumulatorNodes as string[]).sort()).toEqual(['else/Cast', 'else/rescale', 'else/scale', 'then/Cast', 'then/rescale', 'then/scale']);
    // Trilu reads the fill directly; the keep Mul, the Add and the Softmax are followed from it
    expect((report.details!.followedFromConstants as string[]).sort()).toEqual(['else/Add', 'else/Softmax', 'else/mask', 'then/Add', 'then/Softmax', 'then/mask']);
    expect(report.summary).toMatch(/6 casting and rescaling integer accumulators, 6 computing from constants beyond the float16 range until a Softmax/);
    for (const flag of [0, 1]) {
      const f = feeds(flag);
      const [ref, out] = [await ortRun(m, f), await ortRun(h, f)];
      // the float32 model's accumulators exceed what float16 holds
      expect(Math.max(...ref.y!.map(Math.abs)) / (0.002 / 255)).toBeGreaterThan(65504);
      expect(out.y!.every(Number.isFinite)).toBe(true);
      expect(out.p!.every(Number.isFinite)).toBe(true);
      expect(relError(ref.y!, out.y!)).toBeLessThan(0.01);
      expect(relError(ref.p!, out.p!)).toBeLessThan(0.01);
    }
  });
});
