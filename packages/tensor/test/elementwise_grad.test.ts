import { it } from 'vitest';
import {
  abs, cast, clip, cos, erf, exp, gelu, hardSigmoid, hardSwish, leakyRelu, log, neg, reciprocal, relu, sigmoid,
  sin, softplus, sqrt, tanh, where, pow, maximum, minimum, mulScalar, addScalar, tensor, transpose, sliceView,
  sum, mul, floor, type Tensor,
} from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose } from '@whittle/testing';
import { awayFrom, data } from './elementwise_reference.js';

type Op = (x: Tensor) => Tensor;
const pos = (x: number): number => Math.abs(x) + 0.3;
const id = (x: number): number => x;

// [name, op, input domain (away from kinks and outside singularities)]
const GRADS: [string, Op, (x: number) => number][] = [
  ['neg', neg, id],
  ['abs', abs, awayFrom([0])],
  ['exp', exp, id],
  ['log', log, pos],
  ['sqrt', sqrt, pos],
  ['reciprocal', reciprocal, pos],
  ['sin', sin, (x) => 2 * x],
  ['cos', cos, (x) => 2 * x],
  ['relu', relu, awayFrom([0])],
  ['sigmoid', sigmoid, (x) => 2 * x],
  ['tanh', tanh, id],
  ['erf', erf, id],
  ['gelu', gelu, (x) => 2 * x],
  ['gelu tanh', (x) => gelu(x, { approximate: 'tanh' }), (x) => 2 * x],
  ['leakyRelu', (x) => leakyRelu(x, 0.2), awayFrom([0])],
  ['hardSigmoid', (x) => hardSigmoid(x, 0.4, 0.5), (x) => awayFrom([-1.25, 1.25])(2 * x)],
  ['hardSwish', hardSwish, (x) => awayFrom([-3, 3])(3 * x)],
  ['softplus', softplus, (x) => 3 * x],
  ['clip', (x) => clip(x, -0.5, 0.7), awayFrom([-0.5, 0.7])],
  ['clip (max only)', (x) => clip(x, undefined, 0.2), awayFrom([0.2])],
  ['mulScalar/addScalar', (x) => addScalar(mulScalar(x, -1.5), 2), id],
];

describeBackends('elementwise gradients', () => {
  GRADS.forEach(([name, op, domain], k) => {
    it(`${name} (odd shape, and through a strided view)`, async () => {
      await checkGradients(op, [tensor(Array.from(data(15, 400 + k, domain)), [3, 5])]);
      const x = tensor(Array.from(data(35, 500 + k, domain)), [5, 7]);
      await checkGradients((t) => op(sliceView(transpose(t), [1, 0], [7, 5], [2, 2])), [x], { maxChecks: 12 });
    });
  });
  it('where: gradient to a and b, broadcasting reduced back', async () => {
    const cond = tensor(Array.from(data(15, 31)).map((v) => (v > 0 ? 1 : 0)), [3, 5], 'bool');
    const a = tensor(Array.from(data(5, 32)), [1, 5]);
    const b = tensor(Array.from(data(3, 33)), [3, 1]);
    await checkGradients((x, y) => where(cond, x, y), [a, b]);
  });
  it('cast float32 → float16 → float32 passes the gradient', async () => {
    const x = tensor(Array.from(data(9, 34)), [9]);
    await checkGradients((t) => mul(cast(cast(t, 'float16'), 'float32'), t), [x], { eps: 0.1, rtol: 5e-2, atol: 2e-2 });
  });
  it('pow: both inputs, with broadcasting', async () => {
    const a = tensor(Array.from(data(15, 35, (v) => 0.5 + Math.abs(v) / 2)), [3, 5]);
    const b = tensor(Array.from(data(5, 36, (v) => v * 1.2)), [5]);
    await checkGradients((x, y) => pow(x, y), [a, b]);
  });
  it('maximum / minimum: gradient to the selected input, with broadcasting', async () => {
    const a = tensor(Array.from(data(15, 37)), [3, 5]);
    const b = tensor(Array.from(data(5, 38)), [1, 5]);
    // keep |a - b| > eps so no finite difference crosses a switch
    const av = await a.toFloat64();
    const bv = await b.toFloat64();
    const safe = Array.from(av).map((v, i) => (Math.abs(v - bv[i % 5]!) < 0.05 ? bv[i % 5]! + 0.1 : v));
    const a2 = tensor(safe, [3, 5]);
    await checkGradients((x, y) => maximum(x, y), [a2, b]);
    await checkGradients((x, y) => minimum(x, y), [a2, b]);
  });
  it('maximum / minimum split a tie evenly', async () => {
    for (const [op, da, db] of [
      [maximum, [0.5, 1, 0], [0.5, 0, 1]],
      [minimum, [0.5, 0, 1], [0.5, 1, 0]],
    ] as const) {
      const a = tensor([1, 2, 3], [3]).requireGrad();
      const b = tensor([1, 0, 5], [3]).requireGrad();
      sum(op(a, b)).backward();
      await expectClose(a.grad!, da, [3], 0, 0);
      await expectClose(b.grad!, db, [3], 0, 0);
    }
  });
  it('floor has a zero gradient; cast to int has none', async () => {
    const x = tensor([0.3, 1.7], [2]).requireGrad();
    sum(mul(floor(x), x)).backward();
    await expectClose(x.grad!, [0, 1], [2], 0, 0); // d/dx floor(x)·x = floor(x)
    const y = tensor([0.3, 1.7], [2]).requireGrad();
    sum(mul(cast(cast(y, 'int32'), 'float32'), y)).backward();
    await expectClose(y.grad!, [0, 1], [2], 0, 0); // only the direct factor y carries gradient
  });
});
