import { GraphModule, cloneModel, defineOptions, definePass, resolveTrainingData, throwIfAborted, trainOnData } from '@whittle/graph';
import { Adam, add, engine, sub, tensor } from '@whittle/tensor';
import { prepareOpset, siteGranularity } from './rtn.js';
import { SkipLog } from './skips.js';
import { type WeightSite, canonical, dequantizeWeight, findModelWeightSites, fromCanonical, quantizeRtn } from './weights.js';
import { writeQuantizedWeights, writeSummary } from './write_weights.js';
import { mse } from './quant_math.js';

/** Options of `qat`. */
export const qatOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the weight grid trained for and exported' },
  symmetric: { type: 'boolean', default: true, description: 'symmetric grid (zero point 0)' },
  granularity: { type: 'string', enum: ['per-tensor', 'per-channel', 'block'], default: 'block', description: 'scale granularity (block: along the reduction dimension)' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 32, description: 'block size for granularity "block"' },
  epochs: { type: 'number', integer: true, min: 1, default: 2, description: 'training epochs with fake-quantized weights' },
  lr: { type: 'number', min: 0, default: 2e-4, description: 'Adam learning rate' },
  batchSize: { type: 'number', integer: true, min: 1, default: 64, description: 'batch size' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv'], description: 'op types whose weights are quantized' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
});

/**
 * `qat`: quantization-aware training of the weights. Each step the graph computes with the
 * round-to-nearest quantized weights (the same grid the export uses) while gradients reach the
 * float weights unchanged — the straight-through estimator, as W + stopgrad(Q(W) − W) through
 * {@link GraphModule.setWeightTransform} and `fit` (@whittle/graph/train). The trained weights are exported as
 * QDQ (DequantizeLinear, blocked at opset 21) like `quantize-weights`.
 */
export const qatPass = definePass({
  specificationVersion: 'v1',
  name: 'qat',
  cli: { group: 'quantize', command: 'qat' },
  description: 'Quantization-aware training of weights (fake quantization with a straight-through estimator) on the training data, exported as QDQ.',
  optionsSchema: qatOptions,
  async run(model, ctx) {
    const o = ctx.options;
    // any task: labels of any shape, next-token (lm) or float targets (mse); see resolveTrainingData
    const data = resolveTrainingData(ctx.training, model, { pass: 'qat' });
    const spec = (site: WeightSite) => ({ bits: o.bits, symmetric: o.symmetric, granularity: siteGranularity(site, o.granularity), blockSize: o.blockSize });
    const sites = new Map<string, WeightSite>();
    const skips = new SkipLog();
    for (const s of findModelWeightSites(model, o.ops, { names: o.excludeNodes }, { subgraphs: false, subgraphReason: 'inside a subgraph: training updates main-graph weights only', skips })) if (!sites.has(s.name)) sites.set(s.name, s);
    // no main-graph weight to train and quantize (a merged decoder's are in its If branches): say which were skipped
    if (!sites.size) return { model, report: { changed: false, summary: `0 ${o.ops.join('/')} weights to train and quantize${skips.size ? `: ${skips.summary()}` : ''}`, stats: { layers: 0, skipped: skips.size }, warnings: skips.warnings() } };
    const fakeQuant = (site: WeightSite, values: Float32Array): Float32Array => fromCanonical(site, dequantizeWeight(quantizeRtn(canonical(site, values), site.rows, site.cols, spec(site))));
    const module = await GraphModule.create(model, { backend: ctx.backend });
    module.setWeightTransform((name, p) => {
      const site = sites.get(name);
      if (!site) return p;
      // straight-through: the value is Q(W), the gradient is that of W
      const q = tensor(fakeQuant(site, p.dataSync() as Float32Array), p.shape, 'float32', { backend: p.backend });
      const delta = engine().noGrad(() => sub(q, p.detach()));
      return add(p, delta);
    });
    const optimizer = new Adam(module.parameterList(), { lr: o.lr });
    const before = new Map<string, Float32Array>();
    for (const [name] of sites) before.set(name, Float32Array.from(module.parameters.get(name)!.dataSync() as Float32Array));
    const history = await trainOnData(module, {
      data,
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer,
      rng: ctx.rng,
      backend: ctx.backend,
      onProgress: (f, m) => ctx.onProgress(0.95 * f, m),
      signal: ctx.signal,
    });
    throwIfAborted(ctx.signal, 'qat');
    module.setWeightTransform(undefined);
    const trained = await module.toModel();
    optimizer.dispose();
    module.dispose();
    const prepared = prepareOpset(cloneModel(trained), o.bits, o.granularity, 'qdq');
    const out = prepared.model;
    const entries = [];
    const layers: Record<string, number> = {};
    for (const site of findModelWeightSites(out, o.ops, { names: o.excludeNodes }, { subgraphs: false })) {
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      const q = quantizeRtn(w, site.rows, site.cols, spec(site));
      layers[site.name] = mse(w, dequantizeWeight(q));
      entries.push({ site, q });
    }
    const r = await writeQuantizedWeights(out, entries, 'qdq', skips);
    const s = writeSummary(r, prepared.raise);
    const changed = r.layers.length > 0;
    return {
      model: changed ? out : trained,
      report: {
        changed,
        summary: `QAT ${o.epochs} epochs at ${o.bits}-bit (${o.granularity}${o.granularity === 'block' ? ` ${o.blockSize}` : ''}); loss ${history[0]?.loss.toFixed(4)} -> ${history[history.length - 1]?.loss.toFixed(4)}; ${s.text}`,
        stats: { layers: r.layers.length, skipped: skips.size, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, ratio: r.bytesAfter / Math.max(1, r.bytesBefore) },
        warnings: r.warnings,
        details: { ...s.details, losses: history.map((h) => h.loss), weightMse: layers },
      },
    };
  },
});
