import {
  type GraphScope, type Model, type Node, type PassContext, type PassResult, CalibrationDataError, NameGenerator, PassDataError, cloneModel, initializerBytes, initializerSize,
  isDefaultDomain, opsetVersion, resolveTrainingData, scopedName, throwIfAborted,
} from '@whittle/graph';
import { ArgumentError } from '@whittle/tensor';
import { type InputStats, type StatRequest, collectInputStats } from './calibration.js';
import { type ConvInfo, convInfo, prepareSpatialSvd, prepareTucker2 } from './conv.js';
import type { DecomposeOptions } from './decompose.js';
import { fineTuneClassifier } from './finetune.js';
import type { FactorizableLayer } from './layer.js';
import { type LinearInfo, linearInfo, prepareLinear, readsTransposed } from './linear.js';
import type { LowrankOptions } from './options.js';
import { type RankSelection, allocateBudget, selectLocal } from './rank.js';
import { type WeightIndex, type WeightReader, indexWeights } from './scope_weights.js';
import { asvdTransform, whiteningTransform } from './whiten.js';

/** Which op families a pass factorizes. */
export interface Targets {
  linear: boolean;
  conv: boolean;
}

/** Per-layer line of the report. */
export interface LayerReport {
  name: string;
  op: string;
  kind: string;
  shape: string;
  ranks: number[];
  paramsBefore: number;
  paramsAfter: number;
  /** Relative Frobenius error of the weight (activation-aware: of the whitened/scaled weight). */
  relativeError: number;
  randomizedSvd: boolean;
  activationAware: string;
  /** Subgraph path ('' for the main graph) of the first reader. */
  scope: string;
  /** Nodes reading the weight (several when it is shared, e.g. by both branches of an If); all use the same factors. */
  readers: number;
}

/** Parameters and bytes of the initializers of every graph of a model (subgraphs included). */
function weightTotals(scopes: readonly GraphScope[]): { params: number; bytes: number } {
  let params = 0;
  let bytes = 0;
  for (const { graph } of scopes) {
    for (const t of [...graph.initializers.values(), ...graph.rawInitializers.values()]) {
      params += initializerSize(t);
      bytes += initializerBytes(t);
    }
  }
  return { params, bytes };
}

/** A rough upper bound of the bytes the extra nodes and names of a factorization add to the file. */
function rewriteOverhead(label: string, readers: number): number {
  return 2 * (label.length + 24) + readers * (4 * (label.length + 24) + 48);
}

function selection(o: LowrankOptions): Exclude<RankSelection, { mode: 'budget' }> | 'budget' {
  switch (o.rankSelection) {
    case 'fixed':
      if (o.rank === undefined) throw new ArgumentError("lowrank: rankSelection 'fixed' needs the option `rank`");
      return { mode: 'fixed', rank: o.rank };
    case 'energy':
      return { mode: 'energy', energy: o.energy };
    case 'error':
      return { mode: 'error', maxError: o.maxError };
    default:
      return 'budget';
  }
}

function matches(n: Node, names: readonly string[]): boolean {
  return names.some((x) => x === n.name || n.outputs.includes(x) || n.inputs[1] === x);
}

/** Weights of the model grouped by the initializer they read: one factorization per weight. */
interface WeightGroup {
  owner: GraphScope;
  weight: string;
  readers: WeightReader[];
  info: LinearInfo | ConvInfo;
  label: string;
}

function opLabel(n: Node): string {
  return n.name || n.outputs[0] || n.opType;
}

/** Why a MatMul/Gemm/Conv whose weight is not an initializer is skipped (tied embeddings named). */
function whyNotInitializer(index: WeightIndex, scope: GraphScope, n: Node, fallback: string): string {
  const b = n.inputs[1];
  const producer = b ? scope.graph.nodes.find((p) => p.outputs.includes(b)) : undefined;
  const w = producer?.opType === 'Transpose' ? producer.inputs[0] : undefined;
  const r = w ? index.resolve(scope, w) : undefined;
  if (producer && (!w || !r)) return `input B is computed by ${producer.opType} '${opLabel(producer)}' (an activation, not a constant weight)`;
  if (!w || !r) return fallback;
  const gathers = index.readers(r.owner, w).filter((u) => u.node.opType === 'Gather' && u.input === 0);
  if (gathers.length) {
    return `tied with Gather '${opLabel(gathers[0]!.node)}': the weight is Transpose('${w}') of the embedding table; factorizing this use would keep the table and add factors (left dense)`;
  }
  return `the weight is Transpose('${w}') of an initializer; run normalize to fold it`;
}

/** The op types a factorization covers, e.g. 'MatMul/Gemm' for lowrank-linear. */
function targetOps(targets: Targets): string {
  return [...(targets.linear ? ['MatMul', 'Gemm'] : []), ...(targets.conv ? ['Conv'] : [])].join('/');
}

function reasonNotFactorized(o: LowrankOptions, targets: Targets, unprofitable: number, candidates: number, skipped: { reason: string }[], otherOps: number): string {
  if (candidates === 0) {
    if (!skipped.length) {
      // name the op types this pass covers, and the sibling pass when the model's layers are of the other kind
      const other = targets.conv && !targets.linear ? 'MatMul/Gemm layers: factorize them with lowrank-linear' : 'Conv layers: factorize them with lowrank-conv';
      return `0 ${targetOps(targets)} nodes with a constant weight${otherOps ? ` (the model has ${otherOps} ${other})` : ''}`;
    }
    const byReason = new Map<string, number>();
    for (const s of skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
    const top = [...byReason].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, k]) => `${k}× ${r}`).join('; ');
    return `0 factorizable weights: ${skipped.length} layer(s) skipped (${top})`;
  }
  const hint = 'try --rank-selection budget --target-ratio 0.5';
  switch (o.rankSelection) {
    case 'energy':
      return `energy ${o.energy} needs rank ≥ break-even on all ${unprofitable} layers; ${hint}`;
    case 'error':
      return `maxError ${o.maxError} needs rank ≥ break-even on all ${unprofitable} layers; ${hint}`;
    case 'fixed':
      return `rank ${o.rank} is ≥ break-even on all ${unprofitable} layers; pick a smaller rank or ${hint}`;
    default:
      return `target ratio ${o.targetRatio} leaves every layer dense (${unprofitable} layers; factors at rank 1 do not fit the budget or save nothing)`;
  }
}

/** The shared implementation of the low-rank passes. */
export async function factorizeModel(model: Model, ctx: PassContext<LowrankOptions>, targets: Targets, passName: string): Promise<PassResult> {
  const o = ctx.options;
  const sel = selection(o);
  // fail before the (slow) decompositions when fine-tuning cannot run
  const training = ctx.training;
  if (o.fineTuneEpochs > 0) {
    if (!training) throw new PassDataError(passName, `${passName}: fineTuneEpochs ${o.fineTuneEpochs} needs labeled training data (ctx.training with labels / --data); set fineTuneEpochs 0 to factorize only`);
    resolveTrainingData(training, model, { pass: passName });
  }
  const m = cloneModel(model);
  const opset = opsetVersion(model) ?? 21;
  const index = indexWeights(m.graph);
  const scopes = index.scopes;
  const hasSubgraphs = scopes.length > 1;
  const warnings: string[] = [];
  const skipped: { name: string; op: string; reason: string }[] = [];
  const unprofitable: { name: string; op: string; shape: string; ranks: number[]; paramsBefore: number; paramsAtRank: number; reason: string }[] = [];
  const aware = targets.linear ? o.activationAware : 'none';

  // 1. candidates, grouped by the initializer they read (a weight shared by several readers is factorized once)
  const groups = new Map<string, WeightGroup>();
  let otherOps = 0;
  for (const scope of scopes) {
    const lookup = index.lookup(scope);
    for (const n of scope.graph.nodes) {
      if (!isDefaultDomain(n.domain)) continue;
      const isLinear = targets.linear && (n.opType === 'MatMul' || n.opType === 'Gemm');
      const isConv = targets.conv && n.opType === 'Conv';
      if (!isLinear && !isConv) {
        // layers the sibling pass would factorize (a constant weight), named when this pass finds none
        const other = !targets.linear && (n.opType === 'MatMul' || n.opType === 'Gemm') ? linearInfo(lookup, n) : !targets.conv && n.opType === 'Conv' ? convInfo(lookup, n) : undefined;
        if (other && !('skip' in other)) otherOps++;
        continue;
      }
      if ((o.include.length && !matches(n, o.include)) || matches(n, o.exclude)) continue;
      const label = scopedName(scope, opLabel(n));
      if (isLinear && aware !== 'none' && scope.path) {
        skipped.push({ name: label, op: n.opType, reason: `inside subgraph '${scope.path}': activation statistics ('${aware}') are collected on the main graph only` });
        continue;
      }
      const info = isLinear ? linearInfo(lookup, n) : convInfo(lookup, n);
      if ('skip' in info) {
        skipped.push({ name: label, op: n.opType, reason: info.skip.startsWith('weight') ? whyNotInitializer(index, scope, n, info.skip) : info.skip });
        continue;
      }
      const weight = n.inputs[1]!;
      const owner = index.resolve(scope, weight)!.owner;
      const k = `${owner.path}\u0000${weight}`;
      const g = groups.get(k);
      if (g) g.readers.push({ scope, node: n, input: 1 });
      else groups.set(k, { owner, weight, readers: [{ scope, node: n, input: 1 }], info, label });
    }
  }
  const linears: WeightGroup[] = [];
  const convs: WeightGroup[] = [];
  for (const grp of groups.values()) {
    const all = index.readers(grp.owner, grp.weight);
    const skipAll = (reason: string): void => {
      for (const r of grp.readers) skipped.push({ name: scopedName(r.scope, opLabel(r.node)), op: r.node.opType, reason });
    };
    const others = all.filter((u) => !grp.readers.some((r) => r.node === u.node && u.input === 1));
    if (others.length) {
      const u = others[0]!;
      const tied = u.node.opType === 'Gather' && u.input === 0;
      skipAll(tied
        ? `tied with Gather '${opLabel(u.node)}': '${grp.weight}' is also the embedding table; factorizing would keep the table and add factors (left dense)`
        : `'${grp.weight}' is also read by ${u.node.opType} '${scopedName(u.scope, opLabel(u.node))}' (input ${u.input}), which cannot use the factors (left dense)`);
      continue;
    }
    if (index.isOutput(grp.owner, grp.weight)) {
      skipAll(`'${grp.weight}' is a graph output`);
      continue;
    }
    const isLinear = 'k' in grp.info;
    if (isLinear && new Set(grp.readers.map((r) => readsTransposed(r.node))).size > 1) {
      skipAll(`'${grp.weight}' is read both as W and as Wᵀ (Gemm transB) by its ${grp.readers.length} readers`);
      continue;
    }
    if (!isLinear && o.convMethod === 'spatial-svd' && (grp.info as ConvInfo).kernel.length === 2 && grp.readers.some((r) => !['NOTSET', 'VALID'].includes(convInfoAutoPad(r.node)))) {
      skipAll(`auto_pad = SAME_*; spatial SVD of a 2-D conv needs explicit pads (use method 'tucker2')`);
      continue;
    }
    if (isLinear && aware !== 'none' && grp.readers.length > 1) {
      skipAll(`'${grp.weight}' is shared by ${grp.readers.length} readers; activation-aware factorization needs the statistics of one input`);
      continue;
    }
    const info = grp.info;
    const size = 'k' in info ? info.k * info.n : info.n * info.c * info.k2;
    if (size < o.minParams) {
      skipAll(`${size} weight parameters < minParams ${o.minParams}`);
      continue;
    }
    if (grp.readers.length > 1 || grp.owner !== grp.readers[0]!.scope) grp.label = `${scopedName(grp.owner, grp.weight)} (${grp.readers.length} reader(s))`;
    else grp.label = scopedName(grp.readers[0]!.scope, opLabel(grp.readers[0]!.node));
    (isLinear ? linears : convs).push(grp);
  }

  // 2. activation statistics (activation-aware linear layers, main graph only)
  const stats = new Map<string, InputStats>();
  if (aware !== 'none' && linears.length) {
    if (!ctx.calibration) throw new CalibrationDataError(passName, `${passName}: activationAware '${aware}' needs calibration data (ctx.calibration; --data on the command line): none was given`);
    const requests: StatRequest[] = linears.map((grp) => {
      const l = grp.info as LinearInfo;
      return { input: l.input, features: l.k, transposed: l.transA };
    });
    ctx.onProgress(0, 'collecting activation statistics');
    const got = await collectInputStats(model, ctx.calibration, requests, {
      backend: ctx.backend, maxBatches: o.calibrationBatches, signal: ctx.signal,
    });
    for (const [k, v] of got) stats.set(k, v);
  }

  // 3. decompositions
  const dopts: Omit<DecomposeOptions, 'maxRank'> = {
    method: o.svd, randomizedMinDim: o.randomizedMinDim, skipUnprofitable: !o.allowNoSavings, oversampling: o.oversampling, powerIterations: o.powerIterations, rng: ctx.rng,
    ...(sel !== 'budget' && sel.mode === 'fixed' ? { minRank: sel.rank } : {}),
    // fixed ranks need only `rank` triplets, not the whole spectrum
    energyNeeded: sel === 'budget' ? 1 : sel.mode === 'energy' ? sel.energy : sel.mode === 'error' ? 1 - sel.maxError * sel.maxError : 0,
  };
  const layers: { layer: FactorizableLayer; group: WeightGroup }[] = [];
  const total = linears.length + convs.length;
  let done = 0;
  for (const grp of linears) {
    throwIfAborted(ctx.signal, passName);
    const l = grp.info as LinearInfo;
    const st = stats.get(l.input);
    const transform = st ? { kind: aware as 'whiten' | 'asvd', t: aware === 'whiten' ? whiteningTransform(st, o.damping) : asvdTransform(st, o.asvdAlpha) } : undefined;
    const gemmReader = grp.readers.some((r) => r.node.opType === 'Gemm');
    layers.push({ layer: prepareLinear(l, grp.label, dopts, transform, opset, gemmReader), group: grp });
    ctx.onProgress(0.1 + (0.8 * ++done) / Math.max(1, total), `decomposed ${grp.label}`);
  }
  for (const grp of convs) {
    throwIfAborted(ctx.signal, passName);
    const c = grp.info as ConvInfo;
    const layer = o.convMethod === 'spatial-svd' ? prepareSpatialSvd(c, grp.label, dopts) : prepareTucker2(c, grp.label, dopts, o.alsIterations);
    if ('skip' in layer) skipped.push({ name: grp.label, op: 'Conv', reason: layer.skip });
    else layers.push({ layer, group: grp });
    ctx.onProgress(0.1 + (0.8 * ++done) / Math.max(1, total), `decomposed ${grp.label}`);
  }

  // 4. rank selection
  const before = weightTotals(scopes);
  const paramsBefore = before.params;
  let chosen: (number[] | null)[];
  if (sel === 'budget') {
    const candidateDense = layers.reduce((s, l) => s + l.layer.problem.dense, 0);
    const budget = o.targetRatio * paramsBefore - (paramsBefore - candidateDense);
    const alloc = allocateBudget(layers.map((l) => l.layer.problem), budget);
    if (alloc.overBudget || budget < 0) {
      warnings.push(`budget of ${Math.round(o.targetRatio * paramsBefore)} parameters cannot be met: the layers not factorized already hold ${paramsBefore - candidateDense} and the factorized ones need at least ${Math.round(alloc.cost)} at rank 1`);
    }
    chosen = alloc.ranks;
  } else {
    chosen = layers.map((l) => selectLocal(l.layer.problem, sel));
  }

  // 5. rewrite: factors next to the weight (in the graph owning it), every reader replaced
  const names = new NameGenerator(m.graph);
  const reports: LayerReport[] = [];
  const replaced: { reader: WeightReader; nodes: Node[] }[] = [];
  layers.forEach(({ layer: l, group }, i) => {
    const r = chosen[i];
    const op = group.readers[0]!.node.opType;
    if (!r) {
      unprofitable.push({ name: l.label, op, shape: l.shape, ranks: [], paramsBefore: l.problem.dense, paramsAtRank: l.problem.dense, reason: 'kept dense by the budget allocation' });
      return;
    }
    const after = l.problem.cost(r);
    if (after >= l.problem.dense && !o.allowNoSavings) {
      unprofitable.push({ name: l.label, op, shape: l.shape, ranks: r, paramsBefore: l.problem.dense, paramsAtRank: after, reason: `rank ${r.join('x')} is at or above the break-even rank (factors ${after} ≥ dense ${l.problem.dense})` });
      return;
    }
    const zeroC = opset < 11 && group.readers.some((x) => x.node.opType === 'Gemm') ? 2 * (l.label.length + 24) + 4 : 0;
    const overhead = rewriteOverhead(l.label, group.readers.length) + zeroC;
    if (4 * (l.problem.dense - after) <= overhead && !o.allowNoSavings) {
      unprofitable.push({ name: l.label, op, shape: l.shape, ranks: r, paramsBefore: l.problem.dense, paramsAtRank: after, reason: `saves ${4 * (l.problem.dense - after)} bytes, less than the ~${overhead} bytes of the extra nodes` });
      return;
    }
    const rw = l.build(r, names);
    for (const [name, t] of rw.initializers) group.owner.graph.initializers.set(name, t);
    for (const reader of group.readers) replaced.push({ reader, nodes: rw.emit(reader.node, names) });
    group.owner.graph.initializers.delete(group.weight); // every reader now uses the factors
    group.owner.graph.valueInfo.delete(group.weight);
    reports.push({
      name: l.label, op, kind: l.kind, shape: l.shape, ranks: r, paramsBefore: l.problem.dense, paramsAfter: after,
      relativeError: rw.relativeError, randomizedSvd: l.randomized, activationAware: l.activationAware,
      scope: group.readers[0]!.scope.path, readers: group.readers.length,
    });
  });
  for (const { reader, nodes } of replaced) {
    const list = reader.scope.graph.nodes;
    list.splice(list.indexOf(reader.node), 1, ...nodes);
  }
  const after = weightTotals(scopes);
  const paramsAfter = after.params;
  const summaryOf = (count: number, pa: number): string =>
    `${count} layer(s) factorized, ${unprofitable.length} left dense (no savings), ${skipped.length} skipped; ` +
    `parameters ${paramsBefore} → ${pa} (${(pa / Math.max(1, paramsBefore)).toFixed(3)}x)`;
  const baseDetails = { unprofitable, skipped, rankSelection: o.rankSelection, activationAware: aware };
  if (unprofitable.length) {
    warnings.push(`${unprofitable.length} layer(s) left dense because factorization saves nothing at the chosen rank: ${unprofitable.map((u) => u.name).join(', ')}`);
  }
  // never return larger weights than we were given
  if (!replaced.length || (after.bytes >= before.bytes && !o.allowNoSavings)) {
    const reason = replaced.length
      ? `the factors (${after.bytes} bytes) are not smaller than the weights they replace (${before.bytes} bytes); input returned unchanged`
      : reasonNotFactorized(o, targets, unprofitable.length, layers.length, skipped, otherOps);
    ctx.onProgress(1, 'done');
    return {
      model,
      report: {
        changed: false,
        summary: `${summaryOf(0, paramsBefore)}: ${reason}`,
        stats: { factorized: 0, unprofitable: unprofitable.length, skipped: skipped.length, paramsBefore, paramsAfter: paramsBefore, paramRatio: 1 },
        warnings,
        details: { ...baseDetails, layers: [], reason },
      },
    };
  }
  let out = m;
  let fineTune: { epochs: number; losses: number[] } | { skipped: string } | undefined;
  if (o.fineTuneEpochs > 0 && training && hasSubgraphs) {
    fineTune = { skipped: `the model has If/Loop/Scan subgraphs (${scopes.length - 1}); fine-tuning trains main-graph-only models, factors left as computed` };
    warnings.push(`fine-tuning skipped: ${fineTune.skipped}`);
  } else if (o.fineTuneEpochs > 0 && training) {
    const ft = await fineTuneClassifier(m, {
      data: training, epochs: o.fineTuneEpochs,
      batchSize: o.batchSize, lr: o.lr, lrDecay: o.lrDecay, trainable: o.trainable, seed: ctx.seed, backend: ctx.backend,
      onProgress: (f, msg) => ctx.onProgress(0.9 + 0.1 * f, `fine-tuning: ${msg}`),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    out = ft.model;
    fineTune = { epochs: o.fineTuneEpochs, losses: ft.history.map((h) => h.loss) };
  }
  ctx.onProgress(1, 'done');
  return {
    model: out,
    report: {
      changed: true,
      summary: summaryOf(reports.length, paramsAfter) + (fineTune && 'epochs' in fineTune ? `, fine-tuned ${fineTune.epochs} epoch(s)` : ''),
      stats: {
        factorized: reports.length,
        unprofitable: unprofitable.length,
        skipped: skipped.length,
        paramsBefore,
        paramsAfter,
        paramRatio: paramsAfter / Math.max(1, paramsBefore),
        bytesBefore: before.bytes,
        bytesAfter: after.bytes,
      },
      warnings,
      details: { ...baseDetails, layers: reports, ...(fineTune ? { fineTune } : {}) },
    },
  };
}

function convInfoAutoPad(n: Node): string {
  const a = n.attributes.get('auto_pad');
  return a?.type === 'string' ? a.value : 'NOTSET';
}
