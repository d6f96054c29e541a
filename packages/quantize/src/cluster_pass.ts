import {
  type Graph,
  type Model,
  GraphModule,
  graphScopes,
  scopedName,
  NameGenerator,
  type Node,
  cloneModel,
  defineOptions,
  definePass,
  eliminateDeadCode,
  resolveTrainingData,
  trainOnData,
  opsetVersion,
  throwIfAborted,
} from '@whittle/graph';
import { Adam, tensor } from '@whittle/tensor';
import { type Clustered, bitsFor, clusterValues } from './cluster.js';
import { NODE_BYTES } from './write_weights.js';
import { emitClustered, type ClusterStorage } from './cluster_emit.js';
import { constantWeightNodes, findModelWeightSites, modelInitializerBytes } from './weights.js';
import { SkipLog, nothingReason } from './skips.js';

/** Options of `cluster-weights`. */
export const clusterOptions = defineOptions({
  clusters: { type: 'number', integer: true, min: 2, max: 256, default: 16, description: 'shared values per weight tensor, including the zero centroid that pruned weights keep' },
  storage: { type: 'string', enum: ['indices', 'sparse'] as const, default: 'indices', description: "'indices': packed codes + codebook; 'sparse': Deep Compression relative-index entries (gap + code per byte) for pruned weights" },
  gapBits: { type: 'number', integer: true, min: 0, max: 8, default: 0, description: "width of the relative-index gaps of 'sparse' storage (1..8 bits; 0 = per layer, the width that stores it smallest)" },
  init: { type: 'string', enum: ['linear', 'kmeans++'] as const, default: 'linear', description: "centroid initialisation: 'linear' between min and max (Deep Compression) or 'kmeans++' (seeded by ctx.rng)" },
  iterations: { type: 'number', integer: true, min: 1, default: 30, description: 'k-means (Lloyd) iterations' },
  fineTuneEpochs: { type: 'number', integer: true, min: 0, default: 0, description: 'epochs of centroid fine-tuning on ctx.training (any task: labels, lm, float targets; codes fixed, each centroid moves with the mean update of its weights)' },
  lr: { type: 'number', min: 0, default: 1e-4, description: 'Adam learning rate of the fine-tuning' },
  batchSize: { type: 'number', integer: true, min: 1, default: 64, description: 'fine-tuning batch size' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv'], description: 'op types whose weights are clustered' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names whose weights stay as they are' },
});

/** Parsed options of {@link clusterWeightsPass}. */
export type ClusterPassOptions = ReturnType<typeof clusterOptions.parse>;

interface Site {
  name: string;
  /** Subgraph path of the graph holding the weight ('' for the main graph). */
  scope: string;
  shape: number[];
  clustered: Clustered;
}

/** Set every weight to its cluster's mean (code 0 stays exactly 0 when it is the zero centroid). */
function shareValues(values: Float32Array, c: Clustered): void {
  const k = c.codebook.length;
  const sum = new Float64Array(k);
  const cnt = new Float64Array(k);
  for (let i = 0; i < values.length; i++) {
    const q = c.codes[i]!;
    sum[q] = sum[q]! + values[i]!;
    cnt[q] = cnt[q]! + 1;
  }
  for (let q = 0; q < k; q++) if (cnt[q]! > 0) c.codebook[q] = q === 0 && c.hasZero ? 0 : sum[q]! / cnt[q]!;
  for (let i = 0; i < values.length; i++) values[i] = c.codebook[c.codes[i]!]!;
}

async function fineTune(model: Model, sites: Site[], o: ClusterPassOptions, ctx: Parameters<typeof clusterWeightsPass.run>[1]): Promise<{ model: Model; losses: number[] }> {
  const data = resolveTrainingData(ctx.training, model, { pass: 'cluster-weights' });
  const module = await GraphModule.create(model, { backend: ctx.backend });
  const optimizer = new Adam(module.parameterList(), { lr: o.lr });
  const project = (): void => {
    for (const s of sites) {
      const p = module.parameters.get(s.name);
      if (!p) continue;
      const v = Float32Array.from(p.dataSync() as Float32Array);
      shareValues(v, s.clustered);
      module.setParameter(s.name, tensor(v, p.shape, 'float32', { backend: p.backend }));
    }
  };
  const history = await trainOnData(module, {
    data,
    epochs: o.fineTuneEpochs,
    batchSize: o.batchSize,
    optimizer,
    rng: ctx.rng,
    backend: ctx.backend,
    callbacks: { afterStep: () => project() },
    onProgress: (f, m) => ctx.onProgress(0.1 + 0.8 * f, m),
    signal: ctx.signal,
  });
  const out = await module.toModel();
  optimizer.dispose();
  module.dispose();
  return { model: out, losses: history.map((h) => h.loss) };
}

/**
 * `cluster-weights`: Deep Compression's weight sharing. Each Conv/Gemm/MatMul weight is replaced
 * by a small codebook (k-means over its values; pruned zeros keep a zero centroid) and per-weight
 * codes, optionally fine-tuned (the centroids move, the codes stay), and stored as packed codes
 * or as relative-index sparse entries decoded in-graph with standard ONNX ops.
 */
export const clusterWeightsPass = definePass({
  specificationVersion: 'v1',
  name: 'cluster-weights',
  cli: { group: 'quantize', command: 'cluster' },
  description: 'Weight sharing by k-means (Deep Compression): codebook + packed codes or relative-index sparse entries decoded in-graph; optional centroid fine-tuning.',
  optionsSchema: clusterOptions,
  async run(model, ctx) {
    const o = ctx.options;
    let work = cloneModel(model);
    const bytesBefore = modelInitializerBytes(work);
    const skips = new SkipLog();
    const found = findModelWeightSites(work, o.ops, { names: o.excludeNodes }, { skips });
    const scopeOf = (g: Graph): string => graphScopes(work.graph).find((s) => s.graph === g)!.path;
    const sites: Site[] = [];
    const seen = new Set<string>();
    for (const site of found) {
      const scope = scopeOf(site.graph);
      if (seen.has(`${scope}\u0000${site.name}`)) continue;
      seen.add(`${scope}\u0000${site.name}`);
      // packed codes + codebook + about a dozen decoder nodes must beat the float32 bytes
      const est = Math.ceil((site.tensor.size * bitsFor(o.clusters)) / 8) + 4 * o.clusters + 12 * NODE_BYTES;
      if (est >= site.tensor.size * 4) {
        skips.add(site.node.opType, scopedName({ path: site.scope }, site.name), `not smaller clustered (${site.tensor.size * 4} float32 bytes -> about ${est} with its decoder)`);
        continue;
      }
      throwIfAborted(ctx.signal, 'cluster-weights');
      const values = (await site.tensor.data()) as Float32Array;
      const clustered = clusterValues(values, { k: o.clusters, init: o.init, iterations: o.iterations, random: () => ctx.rng.uniform() });
      const shared = Float32Array.from(values);
      shareValues(shared, clustered);
      site.graph.initializers.set(site.name, tensor(shared, site.shape, 'float32', { backend: 'cpu' }));
      sites.push({ name: site.name, scope, shape: site.shape, clustered });
    }
    ctx.onProgress(0.1, `clustered ${sites.length} weights`);
    let losses: number[] = [];
    if (o.fineTuneEpochs > 0 && sites.length) ({ model: work, losses } = await fineTune(work, sites, o, ctx));
    const names = new NameGenerator(work.graph);
    const warnings: string[] = [];
    if (o.fineTuneEpochs > 0 && sites.some((s) => s.scope)) warnings.push(`${sites.filter((s) => s.scope).length} weights inside subgraphs keep their k-means centroids (fine-tuning trains the main graph only)`);
    const layers = [];
    const graphs = new Map(graphScopes(work.graph).map((s) => [s.path, s.graph]));
    const decoders = new Map<Graph, Node[]>();
    const shared = new Map<Graph, Map<string, string>>();
    const opset = opsetVersion(work) ?? 13;
    for (const [index, s] of sites.entries()) {
      const g = graphs.get(s.scope)!;
      // final codebook from the (fine-tuned) weights; codes are fixed
      const v = Float32Array.from((await g.initializers.get(s.name)!.data()) as Float32Array);
      shareValues(v, s.clustered);
      let storage: ClusterStorage = o.storage;
      if (storage === 'sparse' && !s.clustered.hasZero) {
        storage = 'indices';
        warnings.push(`${s.name}: no zero weights, stored as indices (sparse storage needs pruned weights)`);
      }
      if (storage === 'sparse' && opset < 11) {
        storage = 'indices';
        warnings.push(`${s.name}: sparse storage decodes with CumSum/ScatterElements (opset 11), model has opset ${opset}; stored as indices`);
      }
      let dec = decoders.get(g);
      if (!dec) decoders.set(g, (dec = []));
      let sh = shared.get(g);
      if (!sh) shared.set(g, (sh = new Map()));
      // short value names: decoders are small and their names are a real part of the file size
      const e = emitClustered(g, names, `c${index}`, s.clustered, s.shape, storage, o.gapBits, dec, s.name, opset, sh);
      g.initializers.delete(s.name);
      layers.push({ weight: scopedName({ path: s.scope }, s.name), shape: s.shape, clusters: s.clustered.codebook.length, zeros: s.clustered.hasZero, ...e });
    }
    for (const [g, dec] of decoders) {
      // decoders first: the weights they produce keep their names, so consumers need no rewiring
      g.nodes.unshift(...dec);
      // old exporters list initializers as graph inputs too; a decoded weight is no longer one
      const decoded = new Set(sites.map((s) => s.name));
      const inputs = g.inputs.filter((i) => !decoded.has(i.name));
      g.inputs.splice(0, g.inputs.length, ...inputs);
    }
    eliminateDeadCode(work.graph);
    const bytesAfter = modelInitializerBytes(work);
    warnings.push(...skips.warnings());
    const reason = sites.length ? '' : nothingReason(`0 ${o.ops.join('/')} weights clustered`, skips, constantWeightNodes(work));
    return {
      model: work,
      report: {
        changed: sites.length > 0,
        summary: !sites.length ? reason : `clustered ${sites.length} weights to <= ${o.clusters} shared values (${o.storage}${o.fineTuneEpochs ? `, ${o.fineTuneEpochs} fine-tuning epochs` : ''}); initializers ${bytesBefore} -> ${bytesAfter} bytes`,
        stats: { layers: sites.length, bytesBefore, bytesAfter, ratio: bytesAfter / Math.max(1, bytesBefore) },
        warnings,
        details: { ...(reason ? { reason } : {}), layers, fineTuneLosses: losses, skipped: skips.items },
      },
    };
  },
});
