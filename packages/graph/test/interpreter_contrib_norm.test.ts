/**
 * onnxruntime's fused normalizations against onnxruntime-node, on cpu and webgpu: com.microsoft
 * SkipLayerNormalization (all four outputs, optional beta and bias, broadcast skip) and
 * EmbedLayerNormalization (optional segment, mask and position ids; mask_index as onnxruntime
 * computes it), and the default-domain LayerNormalization / SimplifiedLayerNormalization as
 * onnxruntime writes them into opset-14 graphs; SkipLayerNormalization's and
 * EmbedLayerNormalization's gradients against finite differences; bad shapes are refused naming the node.
 */
import { expect, it } from 'vitest';
import { checkGradients, describeBackends } from '@whittle/testing';
import { type Tensor, toBackend } from '@whittle/tensor';
import { runModel } from '../src/interpreter/run.js';
import { getOp } from '../src/interpreter/registry.js';
import { attributeAccessors, type OpContext } from '../src/interpreter/context.js';
import type { OnnxDataType } from '../src/ir/types.js';
import { cpu, expectMatchesOrt, oneNode, randInt, randn, type OneNode } from './interpreter_harness.js';

const MS = 'com.microsoft';
const B = 2;
const S = 5;
const H = 8;
const F4: OnnxDataType[] = ['float32', 'float32', 'float32', 'float32'];

/** A SkipLayerNormalization node over input [shape] with `skip` of shape `skipShape`; inputs: '' leaves an optional one out. */
function skipLn(shape: number[], skipShape: number[], opts: { beta?: boolean; bias?: boolean; epsilon?: number; outputs?: number; scale?: number } = {}): OneNode {
  const h = shape[shape.length - 1]!;
  const inputs = ['x', 'skip', 'init:gamma', opts.beta === false ? '' : 'init:beta', opts.bias ? 'init:bias' : ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  return {
    op: 'SkipLayerNormalization', domain: MS,
    feeds: { x: randn(shape, 1, opts.scale ?? 1), skip: randn(skipShape, 2, opts.scale ?? 1) },
    inputs,
    inits: { gamma: randn([h], 3, 0.5), beta: randn([h], 4, 0.1), bias: randn([h], 5, 0.1) },
    ...(opts.epsilon !== undefined ? { attrs: { epsilon: opts.epsilon }, floatAttrs: ['epsilon'] } : {}),
    outputs: F4.slice(0, opts.outputs ?? 4),
  };
}

const ids = (seed: number, hi: number, shape = [B, S]): Tensor => randInt(shape, seed, 0, hi, 'int32');

/** An EmbedLayerNormalization node; `with` names the optional inputs present. */
function embedLn(withOpt: { segment?: boolean; mask?: Tensor; positions?: Tensor; epsilon?: number; scale?: number }): OneNode {
  const feeds: Record<string, Tensor> = { ids: ids(10, 19) };
  if (withOpt.segment) feeds.seg = ids(11, 1);
  if (withOpt.mask) feeds.mask = withOpt.mask;
  if (withOpt.positions) feeds.pos = withOpt.positions;
  const inputs = ['ids', withOpt.segment ? 'seg' : '', 'init:word', 'init:position', withOpt.segment ? 'init:segment' : '', 'init:gamma', 'init:beta', withOpt.mask ? 'mask' : '', withOpt.positions ? 'pos' : ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const sc = withOpt.scale ?? 1;
  return {
    op: 'EmbedLayerNormalization', domain: MS, feeds, inputs,
    inits: { word: randn([20, H], 12, sc), position: randn([16, H], 13, sc), segment: randn([2, H], 14, sc), gamma: randn([H], 15, 0.5), beta: randn([H], 16, 0.1) },
    ...(withOpt.epsilon !== undefined ? { attrs: { epsilon: withOpt.epsilon }, floatAttrs: ['epsilon'] } : {}),
    // onnxruntime 1.30's type inference fails on a node that declares output 0 only
    outputs: ['float32', 'int32', 'float32'],
  };
}

const run = (spec: OneNode, backend: 'cpu' | 'webgpu', rtol = 1e-4, atol = 1e-5): Promise<void> => expectMatchesOrt(oneNode(spec), spec.feeds, backend, rtol, atol);

describeBackends('com.microsoft SkipLayerNormalization / EmbedLayerNormalization, ORT default-domain layer norms vs onnxruntime', ({ backend }) => {
  it('SkipLayerNormalization: all four outputs (output, mean, inv_std_var, input_skip_bias_sum), with beta and bias', async () => {
    await run(skipLn([B, S, H], [B, S, H], { bias: true }), backend);
  });

  it('SkipLayerNormalization without beta, without bias, and with neither', async () => {
    await run(skipLn([B, S, H], [B, S, H], { beta: false, bias: true }), backend);
    await run(skipLn([B, S, H], [B, S, H]), backend);
    await run(skipLn([B, S, H], [B, S, H], { beta: false }), backend);
  });

  it('SkipLayerNormalization: skip [1, S, H] and [S, H] broadcast over the batch; 2-D input [tokens, H]', async () => {
    await run(skipLn([B, S, H], [1, S, H], { bias: true }), backend);
    await run(skipLn([B, S, H], [S, H]), backend);
    await run(skipLn([S, H], [S, H], { bias: true }), backend);
  });

  it('SkipLayerNormalization: default epsilon (1e-12) and a given one, on inputs whose variance is near epsilon', async () => {
    await run(skipLn([B, S, H], [B, S, H], { scale: 1e-4, outputs: 1 }), backend, 1e-3, 1e-4);
    await run(skipLn([B, S, H], [B, S, H], { scale: 1e-3, epsilon: 1e-6, outputs: 1 }), backend);
  });

  it('SkipLayerNormalization refuses skip shapes onnxruntime refuses ([B, 1, H]) and 4-D input, naming the node', async () => {
    for (const [x, s, re] of [[[B, S, H], [B, 1, H], /skip has shape \[2,1,8\]/], [[1, B, S, H], [1, B, S, H], /input has shape \[1,2,5,8\]/]] as const) {
      const spec = skipLn([...x], [...s], { outputs: 1 });
      await expect(runModel(oneNode(spec), spec.feeds, { backend })).rejects.toThrow(re);
    }
  });

  it('EmbedLayerNormalization with segment ids, mask and all three outputs', async () => {
    await run(embedLn({ segment: true, mask: cpu([1, 1, 1, 0, 0, 1, 0, 1, 1, 1], [B, S], 'int32') }), backend);
  });

  it('EmbedLayerNormalization without segment (DistilBERT) and without mask (mask_index 0)', async () => {
    await run(embedLn({}), backend);
  });

  it('EmbedLayerNormalization mask_index counts the entries equal to 1 (not the first 0), as onnxruntime does', async () => {
    await run(embedLn({ mask: cpu([1, 2, 1, -1, 1, 0, 0, 1, 1, 3], [B, S], 'int32') }), backend);
  });

  it('EmbedLayerNormalization with position_ids [1, S] and [B, S]', async () => {
    await run(embedLn({ segment: true, positions: cpu([4, 0, 15, 2, 2], [1, S], 'int32') }), backend);
    await run(embedLn({ positions: ids(17, 15) }), backend);
  });

  it('EmbedLayerNormalization default epsilon (1e-12) and a given one, on embeddings whose variance is near epsilon', async () => {
    await run(embedLn({ scale: 1e-4 }), backend, 1e-3, 1e-4);
    await run(embedLn({ scale: 1e-3, epsilon: 1e-6 }), backend);
  });

  it('EmbedLayerNormalization with segment_embedding but no segment_ids adds segment 0 to every token, as onnxruntime does', async () => {
    const spec = embedLn({ segment: true });
    spec.inputs[1] = '';
    delete spec.feeds.seg;
    await run(spec, backend);
  });

  it('EmbedLayerNormalization refuses segment_ids without segment_embedding, naming the node', async () => {
    const spec = embedLn({ segment: true });
    spec.inputs[4] = '';
    await expect(runModel(oneNode(spec), spec.feeds, { backend })).rejects.toThrow(/EmbedLayerNormalization.*segment_ids is given without segment_embedding/);
  });

  it('LayerNormalization at opset 14 as onnxruntime writes it (stash_type 1, axis -1 and 1), with Mean and InvStdDev', async () => {
    const feeds = { x: randn([B, S, H], 20) };
    await run({ op: 'LayerNormalization', opset: 14, feeds, inputs: ['x', 'init:g', 'init:b'], inits: { g: randn([H], 21), b: randn([H], 22) }, attrs: { axis: -1, epsilon: 1e-12, stash_type: 1 }, floatAttrs: ['epsilon'], outputs: ['float32', 'float32', 'float32'] }, backend);
    await run({ op: 'LayerNormalization', opset: 14, feeds, inputs: ['x', 'init:g'], inits: { g: randn([S, H], 23) }, attrs: { axis: 1, stash_type: 1 }, outputs: ['float32', 'float32', 'float32'] }, backend);
  });

  it('SimplifiedLayerNormalization (default domain, opset 14): axis -1 and 1, default and given epsilon, with inv_std_var', async () => {
    const feeds = { x: randn([B, S, H], 24) };
    await run({ op: 'SimplifiedLayerNormalization', opset: 14, feeds, inputs: ['x', 'init:g'], inits: { g: randn([H], 25) }, attrs: { axis: -1, epsilon: 1e-6, stash_type: 1 }, floatAttrs: ['epsilon'], outputs: ['float32', 'float32'] }, backend);
    await run({ op: 'SimplifiedLayerNormalization', opset: 14, feeds, inputs: ['x', 'init:g'], inits: { g: randn([S, H], 26) }, attrs: { axis: 1 }, outputs: ['float32', 'float32'] }, backend);
    const small = { x: randn([B, S, H], 27, 3e-3) };
    await run({ op: 'SimplifiedLayerNormalization', opset: 14, feeds: small, inputs: ['x', 'init:g'], inits: { g: randn([H], 28) }, outputs: ['float32'] }, backend, 1e-3, 1e-4);
  });

  it('EmbedLayerNormalization: gradients of the word, position and segment tables, gamma and beta match finite differences', async () => {
    const spec = embedLn({ segment: true });
    const node = oneNode(spec).graph.nodes[0]!;
    const ctx = { node, opset: 1, backend, ...attributeAccessors(node) } as unknown as OpContext;
    const impl = getOp('EmbedLayerNormalization', MS)!;
    const [ids, seg] = await Promise.all([toBackend(spec.feeds.ids!, backend), toBackend(spec.feeds.seg!, backend)]);
    const tables = await Promise.all([randn([20, H], 40), randn([16, H], 41), randn([2, H], 42), randn([H], 43), randn([H], 44)].map((t) => toBackend(t, backend)));
    await checkGradients((w, p, s, g, b) => (impl([ids, seg, w, p, s, g, b], ctx) as Tensor[])[0]!, tables, { maxChecks: 12 });
  });

  it('SkipLayerNormalization: gradients of input, skip, gamma, beta and bias (output and the residual sum) match finite differences', async () => {
    const model = oneNode(skipLn([B, 3, 4], [B, 3, 4], { bias: true }));
    const node = model.graph.nodes[0]!;
    const ctx = { node, opset: 1, backend, ...attributeAccessors(node) } as unknown as OpContext;
    const impl = getOp('SkipLayerNormalization', MS)!;
    const inputs = await Promise.all([randn([B, 3, 4], 30), randn([B, 3, 4], 31), randn([4], 32), randn([4], 33), randn([4], 34)].map((t) => toBackend(t, backend)));
    await checkGradients((x, s, g, b, bi) => (impl([x, s, g, b, bi], ctx) as Tensor[])[0]!, inputs, { maxChecks: 12 });
    // input_skip_bias_sum reads neither gamma nor beta
    const [x0, s0, g0, b0, bi0] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
    await checkGradients((x, s, bi) => (impl([x, s, g0, b0, bi], ctx) as Tensor[])[3]!, [x0, s0, bi0], { maxChecks: 12 });
  });
});
