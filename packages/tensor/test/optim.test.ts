import { expect, it } from 'vitest';
import {
  SGD,
  Adam,
  AdamW,
  assign,
  tensor,
  mul,
  sum,
  sub,
  transpose,
  sliceView,
  ArgumentError,
  DTypeError,
  ShapeError,
  type Tensor,
} from '@whittle/tensor/node';
import { describeBackends, expectClose, randomData } from '@whittle/testing';


// ---- float64 references of torch.optim's update rules ----------------------------------------

interface SgdRef {
  lr: number;
  momentum: number;
  dampening: number;
  wd: number;
  nesterov: boolean;
}

function sgdRef(p: Float64Array, grads: Float64Array[], o: SgdRef): Float64Array {
  const x = p.slice();
  let buf: Float64Array<ArrayBufferLike> | null = null;
  for (const grad of grads) {
    const g = grad.map((gi, i) => gi + o.wd * x[i]!);
    let d: Float64Array<ArrayBufferLike> = g;
    if (o.momentum !== 0) {
      buf = buf ? buf.map((b, i) => o.momentum * b + (1 - o.dampening) * g[i]!) : g.slice();
      const bb = buf;
      d = o.nesterov ? g.map((gi, i) => gi + o.momentum * bb[i]!) : bb;
    }
    for (let i = 0; i < x.length; i++) x[i] = x[i]! - o.lr * d[i]!;
  }
  return x;
}

function adamRef(p: Float64Array, grads: Float64Array[], lrs: number[], o: { b1: number; b2: number; eps: number; wd: number; decoupled: boolean }): Float64Array {
  const x = p.slice();
  const m = new Float64Array(x.length);
  const v = new Float64Array(x.length);
  grads.forEach((grad, t0) => {
    const t = t0 + 1;
    const lr = lrs[t0]!;
    for (let i = 0; i < x.length; i++) {
      if (o.decoupled) x[i] = x[i]! * (1 - lr * o.wd);
      const g = grad[i]! + (o.decoupled ? 0 : o.wd * x[i]!);
      m[i] = o.b1 * m[i]! + (1 - o.b1) * g;
      v[i] = o.b2 * v[i]! + (1 - o.b2) * g * g;
      const mhat = m[i]! / (1 - o.b1 ** t);
      const vhat = v[i]! / (1 - o.b2 ** t);
      x[i] = x[i]! - (lr * mhat) / (Math.sqrt(vhat) + o.eps);
    }
  });
  return x;
}

const f32 = (a: Float64Array): Float64Array => Float64Array.from(Float32Array.from(a));

describeBackends('optimizers', () => {
  const shapes = [[3, 5], [7]] as const;
  const setup = (seed: number) => {
    const inits = shapes.map((s, k) => f32(randomData(s.reduce((a, b) => a * b, 1), seed + k)));
    const params = shapes.map((s, k) => tensor(Float32Array.from(inits[k]!), [...s]).requireGrad());
    // three rounds of gradients per parameter
    const grads = [0, 1, 2].map((r) => shapes.map((s, k) => f32(randomData(s.reduce((a, b) => a * b, 1), 100 * seed + 10 * r + k))));
    const setGrads = (r: number): void =>
      params.forEach((p, k) => {
        p.grad = tensor(Float32Array.from(grads[r]![k]!), p.shape);
      });
    return { inits, params, grads, setGrads };
  };

  const sgdCases: [string, SgdRef][] = [
    ['plain', { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: false }],
    ['momentum + dampening + weight decay', { lr: 0.05, momentum: 0.9, dampening: 0.3, wd: 0.01, nesterov: false }],
    ['nesterov + weight decay', { lr: 0.07, momentum: 0.8, dampening: 0, wd: 0.02, nesterov: true }],
  ];
  for (const [name, o] of sgdCases) {
    it(`SGD ${name}: three steps match torch's rule in float64`, async () => {
      const { inits, params, grads, setGrads } = setup(1);
      const held = params[0]!; // a model holding the tensor object sees the update
      const opt = new SGD(params, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.wd, nesterov: o.nesterov });
      for (let r = 0; r < 3; r++) {
        setGrads(r);
        opt.step();
      }
      for (let k = 0; k < params.length; k++) {
        const want = sgdRef(inits[k]!, grads.map((g) => g[k]!), o);
        await expectClose(params[k]!, want, [...shapes[k]!], 1e-5, 1e-6);
      }
      expect(held).toBe(params[0]);
      expect(held.requiresGrad).toBe(true);
      opt.dispose();
    });
  }

  for (const decoupled of [false, true]) {
    const name = decoupled ? 'AdamW' : 'Adam';
    it(`${name} with weight decay and a changed lr: three steps match torch's rule in float64`, async () => {
      const { inits, params, grads, setGrads } = setup(2);
      const wd = decoupled ? 0.1 : 0.05;
      const opts = { lr: 0.01, betas: [0.8, 0.95] as const, eps: 1e-6, weightDecay: wd };
      const opt = decoupled ? new AdamW(params, opts) : new Adam(params, opts);
      const lrs = [0.01, 0.01, 0.003];
      for (let r = 0; r < 3; r++) {
        opt.lr = lrs[r]!;
        setGrads(r);
        opt.step();
      }
      for (let k = 0; k < params.length; k++) {
        const want = adamRef(inits[k]!, grads.map((g) => g[k]!), lrs, { b1: 0.8, b2: 0.95, eps: 1e-6, wd, decoupled });
        await expectClose(params[k]!, want, [...shapes[k]!], 1e-5, 1e-6);
      }
    });
  }

  it('defaults follow torch (Adam wd 0, AdamW wd 1e-2, lr 1e-3)', () => {
    const p = tensor([1, 2], [2]).requireGrad();
    const a = new Adam([p]);
    const w = new AdamW([p]);
    expect([a.lr, a.beta1, a.beta2, a.eps, a.weightDecay]).toEqual([1e-3, 0.9, 0.999, 1e-8, 0]);
    expect(w.weightDecay).toBe(1e-2);
  });

  it('skips parameters without a gradient; zeroGrad clears; trains through backward()', async () => {
    const { inits, params } = setup(3);
    const [w, b] = params as [Tensor, Tensor];
    const opt = new SGD([w, b, w], { lr: 0.5 });
    expect(opt.params.length).toBe(2);
    // loss = sum(w * c): grad of w is c, b gets none
    const c = tensor(Float32Array.from(randomData(15, 9)), [3, 5]);
    sum(mul(w, c)).backward();
    expect(b.grad).toBeNull();
    opt.step();
    const cv = await c.toFloat64();
    await expectClose(w, inits[0]!.map((x, i) => x - 0.5 * cv[i]!), [3, 5], 1e-5, 1e-6);
    await expectClose(b, inits[1]!, [7]);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    // the updated parameter keeps working in new graphs, including strided views of it
    sum(mul(transpose(w), transpose(c))).backward();
    await expectClose(w.grad!, cv, [3, 5]);
  });

  it('minimizes a quadratic with Adam (loss decreases to ~0)', async () => {
    const target = tensor([1, -2, 3, 0.5], [4]);
    const p = tensor([0, 0, 0, 0], [4]).requireGrad();
    const opt = new Adam([p], { lr: 0.1 });
    for (let i = 0; i < 200; i++) {
      opt.zeroGrad();
      const d = sub(p, target);
      sum(mul(d, d)).backward();
      opt.step();
    }
    await expectClose(p, [1, -2, 3, 0.5], [4], 1e-2, 1e-2);
  });

  it('rejects bad parameters and options with typed errors', () => {
    const p = tensor([1, 2, 3, 4], [2, 2]).requireGrad();
    expect(() => new SGD([tensor([1], [1], 'int32').requireGrad()], { lr: 0.1 })).toThrow(DTypeError);
    expect(() => new SGD([tensor([1], [1])], { lr: 0.1 })).toThrow(/does not require grad/);
    expect(() => new SGD([mul(p, p)], { lr: 0.1 })).toThrow(/not a leaf/);
    expect(() => new SGD([transpose(p.detach()).requireGrad()], { lr: 0.1 })).toThrow(ShapeError);
    expect(() => new SGD([p], { lr: -1 })).toThrow(ArgumentError);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/betas\[0\]/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(ArgumentError);
  });

  it('assign replaces a leaf in place and checks dtype/shape', async () => {
    const p = tensor([1, 2, 3], [3]);
    const view = sliceView(tensor([0, 4, 0, 5, 0, 6], [6]), [1], [6], [2]); // strided
    assign(p, view);
    await expectClose(p, [4, 5, 6], [3]);
    expect(() => assign(p, tensor([1, 2], [2]))).toThrow(ShapeError);
    expect(() => assign(p, tensor([1, 2, 3], [3], 'int32'))).toThrow(DTypeError);
  });
});
