import { describe, expect, it } from 'vitest';
import {
  attr, cloneModel, constantsToInitializers, findSharedWeights, tensorInfo, foldBatchNorms, fuseMatMulAdd, normalizeModel, removeIdentities,
  foldConstants, runPass, untieSharedWeights, validateModel,
} from '../src/index.js';
import type { Model } from '../src/index.js';
import { Rng, model, node, randTensor, t, vals } from './helpers.js';

// ---- float64 references -----------------------------------------------------------------
function conv2d(x: number[], xs: number[], w: number[], ws: number[], b: number[] | undefined, stride: number, pad: number, group: number): { y: number[]; shape: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [m, cg, kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
  const y = new Array<number>(n * m * oh * ow).fill(0);
  const mPerG = m / group;
  for (let i = 0; i < n; i++)
    for (let o = 0; o < m; o++) {
      const g = Math.floor(o / mPerG);
      for (let r = 0; r < oh; r++)
        for (let q = 0; q < ow; q++) {
          let s = b ? b[o]! : 0;
          for (let ci = 0; ci < cg; ci++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const yy = r * stride - pad + u;
                const xx = q * stride - pad + v;
                if (yy < 0 || xx < 0 || yy >= h || xx >= wd) continue;
                s += x[((i * c + g * cg + ci) * h + yy) * wd + xx]! * w[((o * cg + ci) * kh + u) * kw + v]!;
              }
          y[((i * m + o) * oh + r) * ow + q] = s;
        }
    }
  void c;
  return { y, shape: [n, m, oh, ow] };
}

function batchNorm(y: number[], channels: number, inner: number, p: number[][], eps: number): number[] {
  const [sc, bi, mean, v] = p as [number[], number[], number[], number[]];
  return y.map((val, i) => {
    const ch = Math.floor(i / inner) % channels;
    return ((val - mean[ch]!) / Math.sqrt(v[ch]! + eps)) * sc[ch]! + bi[ch]!;
  });
}

function gemm(a: number[], as: number[], b: number[], bs: number[], c: number[] | undefined, cN: boolean, tb: boolean, alpha = 1, beta = 1): number[] {
  const [m, k] = as as [number, number];
  const n = tb ? bs[0]! : bs[1]!;
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * (tb ? b[j * k + p]! : b[p * n + j]!);
      out.push(alpha * s + (c ? beta * (cN ? c[j]! : c[i * n + j]!) : 0));
    }
  return out;
}

const close = (a: number[], b: number[], tol = 1e-5): void => {
  expect(a.length).toBe(b.length);
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / (1 + Math.abs(b[i]!))));
  expect(worst).toBeLessThan(tol);
};

function bnParams(rng: Rng, c: number) {
  return {
    scale: randTensor(rng, [c], 0.5, 1.5),
    bias: randTensor(rng, [c], -0.5, 0.5),
    mean: randTensor(rng, [c], -0.3, 0.3),
    var: randTensor(rng, [c], 0.2, 2),
  };
}

describe('normalization passes', () => {
  it('turns Constant nodes into initializers (value, value_float(s), value_int(s)), not graph outputs', async () => {
    const m = model(
      [
        node('Constant', [], ['c1'], { value: attr.tensor(t([1, 2], [2])) }),
        node('Constant', [], ['c2'], { value_float: attr.float(0.5) }),
        node('Constant', [], ['c3'], { value_floats: attr.floats([1, 2]) }),
        node('Constant', [], ['c4'], { value_int: attr.int(7) }),
        node('Constant', [], ['c5'], { value_ints: attr.ints([2, 1]) }),
        node('Constant', [], ['out'], { value_int: attr.int(1) }),
        node('Add', ['c1', 'c2'], ['y']),
        node('Reshape', ['c3', 'c5'], ['y2']),
        node('Mul', ['c4', 'c4'], ['y3']),
      ],
      {},
      ['y', 'y2', 'y3', 'out'],
    );
    const r = await runPass('constants-to-initializers', m);
    const g = r.model.graph;
    expect(r.report.stats).toEqual({ converted: 5, kept: 1 });
    expect(g.nodes.map((n) => n.opType)).toEqual(['Constant', 'Add', 'Reshape', 'Mul']);
    expect(vals(g.initializers.get('c2')!)).toEqual([0.5]);
    expect(g.initializers.get('c2')!.shape).toEqual([]);
    expect(g.initializers.get('c5')!.dtype).toBe('int64');
    expect(vals(g.initializers.get('c5')!)).toEqual([2, 1]);
    expect(g.initializers.get('c4')!.dtype).toBe('int64');
    validateModel(r.model);
    expect(m.graph.nodes).toHaveLength(9);
    // only the nodes `only` accepts: the others stay Constant nodes
    const some = cloneModel(m);
    expect(constantsToInitializers(some.graph, { only: (n) => n.outputs[0] === 'c3' || n.outputs[0] === 'c5' })).toEqual({ converted: 2, kept: 4 });
    expect([...some.graph.initializers.keys()].sort()).toEqual(['c3', 'c5']);
    expect(constantsToInitializers(m.graph).converted).toBe(5);
  });

  it('removes Identity chains, keeping graph output names', () => {
    const m = model(
      [
        node('Relu', ['x'], ['a']),
        node('Identity', ['a'], ['i1']),
        node('Identity', ['i1'], ['i2']),
        node('Neg', ['i2'], ['b']),
        node('Identity', ['b'], ['y']),
        node('Identity', ['x'], ['y_in']),
        node('Identity', ['a'], ['y2']),
      ],
      { x: [2] },
      ['y', 'y_in', 'y2'],
    );
    const r = removeIdentities(m.graph);
    expect(r).toEqual({ removed: 4, kept: 1 });
    const g = m.graph;
    expect(g.outputs.map((o) => o.name)).toEqual(['y', 'y_in', 'y2']);
    expect(g.nodes.map((n) => `${n.opType}(${n.inputs.join(',')})->${n.outputs.join(',')}`)).toEqual([
      'Relu(x)->y2',
      'Neg(y2)->y',
      'Identity(x)->y_in',
    ]);
    validateModel(m);
  });

  it('reports shared weights and unties them on request', async () => {
    const w = t([1, 2, 3, 4], [2, 2]);
    const m = model(
      [node('MatMul', ['x', 'w'], ['a'], {}, 'mm1'), node('MatMul', ['a', 'w'], ['b'], {}, 'mm2'), node('Add', ['b', 'one'], ['y'], {}, 'add'), node('Add', ['y', 'one'], ['y2'], {}, 'add2')],
      { x: [1, 2] },
      ['y2'],
      { w, one: t([1], []) },
    );
    const shared = findSharedWeights(m.graph);
    expect(shared.map((s) => s.name).sort()).toEqual(['one', 'w']);
    expect(shared.find((s) => s.name === 'w')!.uses).toEqual(['mm1 (MatMul) input 1', 'mm2 (MatMul) input 1']);
    const r = await runPass('shared-weights', m, { untieSharedWeights: true });
    const g = r.model.graph;
    expect(g.nodes[0]!.inputs[1]).toBe('w');
    expect(g.nodes[1]!.inputs[1]).toBe('w_untied');
    expect(vals(g.initializers.get('w_untied')!)).toEqual([1, 2, 3, 4]);
    expect(g.nodes[3]!.inputs[1]).toBe('one'); // scalar below minElements
    expect(findSharedWeights(g).map((s) => s.name)).toEqual(['one']);
    expect(m.graph.nodes[1]!.inputs[1]).toBe('w');
    validateModel(r.model);
    expect(untieSharedWeights(m.graph, 1)).toEqual(['w_untied', 'one_untied']);
  });

  it('unties only readers of the given op types: the others keep one shared copy', async () => {
    const w = t([1, 2, 3, 4], [2, 2]);
    const cache = t([5, 6, 7, 8], [2, 2]);
    const m = model(
      [
        node('Gather', ['w', 'ids'], ['e'], {}, 'embed'), node('Transpose', ['w'], ['wt'], { perm: { type: 'ints', value: [1, 0] } }, 'head_t'),
        node('Add', ['e', 'cache'], ['a'], {}, 'attn1'), node('Add', ['a', 'cache'], ['b'], {}, 'attn2'),
        node('Mul', ['b', 'w'], ['c'], {}, 'other'), node('MatMul', ['c', 'wt'], ['y'], {}, 'head'),
      ],
      { ids: [2, 2] },
      ['y'],
      { w, cache },
    );
    const r = await runPass('normalize', m, { untieSharedWeights: true, untieOpTypes: ['Gather', 'Transpose', 'MatMul'], foldConstants: false });
    const g = r.model.graph;
    const by = (name: string) => g.nodes.find((n) => n.name === name)!;
    // the Gather and the Transpose get copies of their own; Mul (not listed) keeps 'w'; both Adds keep 'cache'
    expect([by('embed').inputs[0], by('head_t').inputs[0], by('other').inputs[1]]).toEqual(['w_untied', 'w_untied_1', 'w']);
    expect([by('attn1').inputs[1], by('attn2').inputs[1]]).toEqual(['cache', 'cache']);
    expect(r.report.stats!.weightsUntied).toBe(2);
    expect(vals(g.initializers.get('w_untied_1')!)).toEqual([1, 2, 3, 4]);
  });

  it('folds BatchNormalization into a preceding Conv (grouped, with and without bias)', () => {
    const rng = new Rng(7);
    for (const [group, withBias] of [[1, true], [2, false]] as const) {
      const cin = 4;
      const cout = 6;
      const x = randTensor(rng, [2, cin, 5, 6]);
      const w = randTensor(rng, [cout, cin / group, 3, 3]);
      const b = randTensor(rng, [cout]);
      const p = bnParams(rng, cout);
      const eps = 1e-3;
      const m = model(
        [
          node('Conv', withBias ? ['x', 'w', 'b'] : ['x', 'w'], ['c'], { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]), group: attr.int(group) }, 'conv'),
          node('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['y'], { epsilon: attr.float(eps) }, 'bn'),
        ],
        { x: [2, cin, 5, 6] },
        ['y'],
        { w, b, scale: p.scale, bias: p.bias, mean: p.mean, var: p.var },
      );
      const r = foldBatchNorms(m.graph);
      expect(r.folded).toEqual(['bn']);
      const g = m.graph;
      expect(g.nodes.map((n) => n.opType)).toEqual(['Conv']);
      expect(g.nodes[0]!.outputs).toEqual(['y']);
      validateModel(m);
      const ref = conv2d(vals(x), [2, cin, 5, 6], vals(w), [cout, cin / group, 3, 3], withBias ? vals(b) : undefined, 2, 1, group);
      const want = batchNorm(ref.y, cout, ref.shape[2]! * ref.shape[3]!, [vals(p.scale), vals(p.bias), vals(p.mean), vals(p.var)], eps);
      const conv = g.nodes[0]!;
      const got = conv2d(vals(x), [2, cin, 5, 6], vals(g.initializers.get(conv.inputs[1]!)!), [cout, cin / group, 3, 3], vals(g.initializers.get(conv.inputs[2]!)!), 2, 1, group);
      close(got.y, want);
    }
  });

  it('folds BatchNormalization into a preceding Gemm (transB) and a following Gemm', () => {
    const rng = new Rng(11);
    const [mDim, k, n] = [3, 5, 4];
    const a = randTensor(rng, [mDim, k]);
    const bT = randTensor(rng, [n, k]);
    const c = randTensor(rng, [n]);
    const p = bnParams(rng, n);
    const bnArgs = [vals(p.scale), vals(p.bias), vals(p.mean), vals(p.var)];
    const before = model(
      [
        node('Gemm', ['a', 'bT', 'c'], ['g'], { transB: attr.int(1), alpha: attr.float(0.7), beta: attr.float(1.3) }, 'gemm'),
        node('BatchNormalization', ['g', 'scale', 'bias', 'mean', 'var'], ['y'], {}, 'bn'),
      ],
      { a: [mDim, k] },
      ['y'],
      { bT, c, scale: p.scale, bias: p.bias, mean: p.mean, var: p.var },
    );
    expect(foldBatchNorms(before.graph).folded).toEqual(['bn']);
    validateModel(before);
    const gm = before.graph.nodes[0]!;
    const want = batchNorm(gemm(vals(a), [mDim, k], vals(bT), [n, k], vals(c), true, true, 0.7, 1.3), n, 1, bnArgs, 1e-5);
    const got = gemm(vals(a), [mDim, k], vals(before.graph.initializers.get(gm.inputs[1]!)!), [n, k], vals(before.graph.initializers.get(gm.inputs[2]!)!), true, true, 0.7, 1);
    close(got, want);

    // BN on [M, K] then Gemm without C, B not transposed
    const pk = bnParams(rng, k);
    const b = randTensor(rng, [k, n]);
    const after = model(
      [
        node('BatchNormalization', ['a', 'scale', 'bias', 'mean', 'var'], ['an'], {}, 'bn2'),
        node('Gemm', ['an', 'b'], ['y'], { alpha: attr.float(2) }, 'gemm2'),
      ],
      { a: [mDim, k] },
      ['y'],
      { b, scale: pk.scale, bias: pk.bias, mean: pk.mean, var: pk.var },
    );
    expect(foldBatchNorms(after.graph).folded).toEqual(['bn2']);
    validateModel(after);
    const g2 = after.graph.nodes[0]!;
    expect(g2.inputs[0]).toBe('a');
    const an = batchNorm(vals(a), k, 1, [vals(pk.scale), vals(pk.bias), vals(pk.mean), vals(pk.var)], 1e-5);
    const want2 = gemm(an, [mDim, k], vals(b), [k, n], undefined, true, false, 2);
    const got2 = gemm(vals(a), [mDim, k], vals(after.graph.initializers.get(g2.inputs[1]!)!), [k, n], vals(after.graph.initializers.get(g2.inputs[2]!)!), true, false, 2, 1);
    close(got2, want2);
  });

  it('does not fold BN when the conv output has another consumer or params are inputs', () => {
    const rng = new Rng(3);
    const p = bnParams(rng, 2);
    const m = model(
      [node('Conv', ['x', 'w'], ['c'], {}, 'conv'), node('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['y'], {}, 'bn'), node('Relu', ['c'], ['z'])],
      { x: [1, 1, 3, 3] },
      ['y', 'z'],
      { w: randTensor(rng, [2, 1, 1, 1]), scale: p.scale, bias: p.bias, mean: p.mean, var: p.var },
    );
    expect(foldBatchNorms(m.graph)).toEqual({ folded: [], skipped: ['bn'] });
  });

  it('fuses MatMul + Add into Gemm where valid and matches numerically', async () => {
    const rng = new Rng(5);
    const w = randTensor(rng, [4, 3]);
    const bias = randTensor(rng, [3]);
    const m = model(
      [node('MatMul', ['x', 'w'], ['mm'], {}, 'fc'), node('Add', ['bias', 'mm'], ['y'], {}, 'add'), node('MatMul', ['x3', 'w'], ['mm3'], {}, 'fc3'), node('Add', ['mm3', 'bias'], ['y3'], {}, 'add3')],
      { x: ['N', 4], x3: [2, 'T', 4] },
      ['y', 'y3'],
      { w, bias },
    );
    const r = fuseMatMulAdd(m.graph);
    expect(r.fused).toEqual(['fc']);
    expect(r.skipped).toEqual([{ node: 'fc3', reason: 'A has rank 3, Gemm needs 2' }]);
    const gm = m.graph.nodes.find((n) => n.opType === 'Gemm')!;
    expect(gm.inputs).toEqual(['x', 'w', 'bias']);
    expect(gm.outputs).toEqual(['y']);
    validateModel(m);
    // Evaluate both graphs with x as a constant (the folder runs MatMul/Add/Gemm on cpu).
    const x = randTensor(rng, [2, 4]);
    const want = gemm(vals(x), [2, 4], vals(w), [4, 3], undefined, true, false).map((v, i) => v + vals(bias)[i % 3]!);
    const asConst = (mm: Model): Model => ({ ...mm, graph: { ...mm.graph, inputs: [], outputs: [], initializers: new Map([...mm.graph.initializers, ['x', x]]) } });
    const r2 = await foldConstants(asConst(m), { dce: false });
    expect(r2.folded).toEqual(['fc (Gemm)']);
    close(vals(r2.model.graph.initializers.get('y')!), want);
  });

  it('normalize runs everything and reports what it did', async () => {
    const rng = new Rng(9);
    const p = bnParams(rng, 2);
    const m: Model = model(
      [
        node('Constant', [], ['shape'], { value_ints: attr.ints([1, -1]) }),
        node('Conv', ['x', 'w'], ['c'], {}, 'conv'),
        node('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['bnout'], {}, 'bn'),
        node('Identity', ['bnout'], ['id']),
        node('Reshape', ['id', 'shape'], ['flat']),
        node('MatMul', ['flat', 'fcw'], ['mm'], {}, 'fc'),
        node('Add', ['mm', 'fcb'], ['y'], {}, 'add'),
        node('Exp', ['x'], ['unused']),
      ],
      { x: [1, 1, 2, 2] },
      ['y'],
      { w: randTensor(rng, [2, 1, 1, 1]), scale: p.scale, bias: p.bias, mean: p.mean, var: p.var, fcw: randTensor(rng, [8, 3]), fcb: randTensor(rng, [3]) },
    );
    const r = await normalizeModel(m);
    expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Reshape', 'Gemm']);
    expect(r.report.stats).toMatchObject({ constantsConverted: 1, identitiesRemoved: 1, batchNormsFolded: 1, gemmsFused: 1, deadNodesRemoved: 1 });
    validateModel(r.model);
    const again = await runPass('normalize', r.model);
    expect(again.report.changed).toBe(false);
    expect(again.report.summary).toBe('already normalized');
  });
});

describe('initializers listed as graph inputs', () => {
  const build = (ir: number): Model => {
    const m = model(
      [node('MatMul', ['x', 'w'], ['h']), node('Mul', ['h', 'temperature'], ['h2']), node('Add', ['h2', 'b'], ['y'])],
      { x: [1, 2] },
      ['y'],
      { w: t([1, 2, 3, 4], [2, 2]), b: t([0.5, -0.5], [2]), temperature: t([2], []) },
    );
    for (const [k, v] of m.graph.initializers) m.graph.inputs.push(tensorInfo(k, 'float32', [...v.shape]));
    m.irVersion = ir;
    return m;
  };

  it('IR 3: every one becomes a constant (the listing was mandatory); IR raised to 4', async () => {
    const r = await normalizeModel(build(3));
    expect(r.model.graph.inputs.map((v) => v.name)).toEqual(['x']);
    expect(r.model.irVersion).toBe(4);
    expect(r.report.stats?.initializerInputsDropped).toBe(3);
  });

  it('IR 4 and later: weights become constants, a scalar default stays an input to feed', async () => {
    const r = await normalizeModel(build(8));
    expect(r.model.graph.inputs.map((v) => v.name)).toEqual(['x', 'temperature']);
    expect(r.model.irVersion).toBe(8);
    const off = await normalizeModel(build(8), { initializerInputsToConstants: false });
    expect(off.model.graph.inputs).toHaveLength(4);
  });
});
