import {
  type Model, type Node, type PassContext, type PassResult, NameGenerator, PassDataError, buildUseIndex, cloneModel, isDefaultDomain, throwIfAborted,
} from '@whittle/graph';
import { ArgumentError } from '@whittle/tensor';
import { type InputStats, type StatRequest, collectInputStats } from './calibration.js';
import { type ConvInfo, convInfo, prepareSpatialSvd, prepareTucker2 } from './conv.js';
import type { DecomposeOptions } from './decompose.js';
import { fineTuneClassifier } from './finetune.js';
import type { FactorizableLayer } from './layer.js';
import { type LinearInfo, linearInfo, prepareLinear } from './linear.js';
import type { LowrankOptions } from './options.js';
import { type RankSelection, allocateBudget, selectLocal } from './rank.js';
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
}

function parameterCount(m: Model): number {
  let n = 0;
  for (const t of m.graph.initializers.values()) n += t.size;
  for (const t of m.graph.rawInitializers.values()) n += t.dims.reduce((a, b) => a * b, 1);
  return n;
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

/** The shared implementation of the low-rank passes. */
export async function factorizeModel(model: Model, ctx: PassContext<LowrankOptions>, targets: Targets, passName: string): Promise<PassResult> {
  const o = ctx.options;
  const sel = selection(o);
  // fail before the (slow) decompositions when fine-tuning cannot run
  const training = ctx.training;
  if (o.fineTuneEpochs > 0 && !training?.labels) {
    throw new PassDataError(passName, `${passName}: fineTuneEpochs ${o.fineTuneEpochs} needs labeled training data (ctx.training with labels / --data); set fineTuneEpochs 0 to factorize only`);
  }
  const m = cloneModel(model);
  const g = m.graph;
  const warnings: string[] = [];
  const skipped: { name: string; op: string; reason: string }[] = [];
  const unprofitable: { name: string; op: string; shape: string; ranks: number[]; paramsBefore: number; paramsAtRank: number }[] = [];
  const labelOf = (n: Node): string => n.name || n.outputs[0] || n.opType;

  // 1. candidates
  const linears: LinearInfo[] = [];
  const convs: ConvInfo[] = [];
  for (const n of g.nodes) {
    if (!isDefaultDomain(n.domain)) continue;
    const isLinear = targets.linear && (n.opType === 'MatMul' || n.opType === 'Gemm');
    const isConv = targets.conv && n.opType === 'Conv';
    if (!isLinear && !isConv) continue;
    if ((o.include.length && !matches(n, o.include)) || matches(n, o.exclude)) continue;
    const info = isLinear ? linearInfo(g, n) : convInfo(g, n);
    if ('skip' in info) {
      skipped.push({ name: labelOf(n), op: n.opType, reason: info.skip });
      continue;
    }
    const size = 'k' in info ? info.k * info.n : info.n * info.c * info.kh * info.kw;
    if (size < o.minParams) {
      skipped.push({ name: labelOf(n), op: n.opType, reason: `${size} weight parameters < minParams ${o.minParams}` });
      continue;
    }
    if ('k' in info) linears.push(info);
    else convs.push(info);
  }

  // 2. activation statistics (activation-aware linear layers)
  const aware = targets.linear ? o.activationAware : 'none';
  const stats = new Map<string, InputStats>();
  if (aware !== 'none' && linears.length) {
    if (!ctx.calibration) throw new ArgumentError(`${passName}: activationAware '${aware}' needs calibration data (ctx.calibration)`);
    const requests: StatRequest[] = linears.map((l) => ({ input: l.input, features: l.k, transposed: l.transA }));
    ctx.onProgress(0, 'collecting activation statistics');
    const got = await collectInputStats(model, ctx.calibration, requests, {
      backend: ctx.backend, maxBatches: o.calibrationBatches, signal: ctx.signal,
    });
    for (const [k, v] of got) stats.set(k, v);
  }

  // 3. decompositions
  const dopts: Omit<DecomposeOptions, 'maxRank'> = {
    method: o.svd, randomizedMinDim: o.randomizedMinDim, oversampling: o.oversampling, powerIterations: o.powerIterations, rng: ctx.rng,
    ...(sel !== 'budget' && sel.mode === 'fixed' ? { minRank: sel.rank } : {}),
    // fixed ranks need only `rank` triplets, not the whole spectrum
    energyNeeded: sel === 'budget' ? 1 : sel.mode === 'energy' ? sel.energy : sel.mode === 'error' ? 1 - sel.maxError * sel.maxError : 0,
  };
  const layers: FactorizableLayer[] = [];
  const total = linears.length + convs.length;
  let done = 0;
  for (const l of linears) {
    throwIfAborted(ctx.signal, passName);
    const st = stats.get(l.input);
    const transform = st ? { kind: aware as 'whiten' | 'asvd', t: aware === 'whiten' ? whiteningTransform(st, o.damping) : asvdTransform(st, o.asvdAlpha) } : undefined;
    layers.push(prepareLinear(l, labelOf(l.node), dopts, transform));
    ctx.onProgress(0.1 + (0.8 * ++done) / Math.max(1, total), `decomposed ${labelOf(l.node)}`);
  }
  for (const c of convs) {
    throwIfAborted(ctx.signal, passName);
    const layer = o.convMethod === 'spatial-svd' ? prepareSpatialSvd(c, labelOf(c.node), dopts) : prepareTucker2(c, labelOf(c.node), dopts, o.alsIterations);
    if ('skip' in layer) skipped.push({ name: labelOf(c.node), op: 'Conv', reason: layer.skip });
    else layers.push(layer);
    ctx.onProgress(0.1 + (0.8 * ++done) / Math.max(1, total), `decomposed ${labelOf(c.node)}`);
  }

  // 4. rank selection
  const paramsBefore = parameterCount(model);
  let chosen: (number[] | null)[];
  if (sel === 'budget') {
    const candidateDense = layers.reduce((s, l) => s + l.problem.dense, 0);
    const budget = o.targetRatio * paramsBefore - (paramsBefore - candidateDense);
    const alloc = allocateBudget(layers.map((l) => l.problem), budget);
    if (alloc.overBudget || budget < 0) {
      warnings.push(`budget of ${Math.round(o.targetRatio * paramsBefore)} parameters cannot be met: the layers not factorized already hold ${paramsBefore - candidateDense} and the factorized ones need at least ${Math.round(alloc.cost)} at rank 1`);
    }
    chosen = alloc.ranks;
  } else {
    chosen = layers.map((l) => selectLocal(l.problem, sel));
  }

  // 5. rewrite
  const names = new NameGenerator(g);
  const reports: LayerReport[] = [];
  const replaced: { node: Node; nodes: Node[] }[] = [];
  layers.forEach((l, i) => {
    const r = chosen[i];
    if (!r) {
      unprofitable.push({ name: l.label, op: l.node.opType, shape: l.shape, ranks: [], paramsBefore: l.problem.dense, paramsAtRank: l.problem.dense });
      return;
    }
    const after = l.problem.cost(r);
    if (after >= l.problem.dense && !o.allowNoSavings) {
      unprofitable.push({ name: l.label, op: l.node.opType, shape: l.shape, ranks: r, paramsBefore: l.problem.dense, paramsAtRank: after });
      return;
    }
    const rw = l.build(r, names);
    for (const [name, t] of rw.initializers) g.initializers.set(name, t);
    replaced.push({ node: l.node, nodes: rw.nodes });
    reports.push({
      name: l.label, op: l.node.opType, kind: l.kind, shape: l.shape, ranks: r, paramsBefore: l.problem.dense, paramsAfter: after,
      relativeError: rw.relativeError, randomizedSvd: l.randomized, activationAware: l.activationAware,
    });
  });
  for (const { node, nodes } of replaced) g.nodes.splice(g.nodes.indexOf(node), 1, ...nodes);
  // drop weights nothing reads any more
  const idx = buildUseIndex(g);
  for (const { node } of replaced) {
    const w = node.inputs[1]!;
    if (!idx.consumers.has(w) && !idx.graphOutputs.has(w) && !g.inputs.some((v) => v.name === w)) g.initializers.delete(w);
  }
  const paramsAfter = parameterCount(m);
  let out = m;
  let fineTune: { epochs: number; losses: number[] } | undefined;
  if (o.fineTuneEpochs > 0 && training?.labels && replaced.length) {
    const ft = await fineTuneClassifier(m, {
      x: training.x, labels: training.labels, sampleShape: training.sampleShape, epochs: o.fineTuneEpochs,
      batchSize: o.batchSize, lr: o.lr, lrDecay: o.lrDecay, trainable: o.trainable, seed: ctx.seed, backend: ctx.backend,
      ...(training.inputName ? { inputName: training.inputName } : {}),
      onProgress: (f, msg) => ctx.onProgress(0.9 + 0.1 * f, `fine-tuning: ${msg}`),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    out = ft.model;
    fineTune = { epochs: o.fineTuneEpochs, losses: ft.history.map((h) => h.loss) };
  }
  ctx.onProgress(1, 'done');
  if (unprofitable.length) {
    warnings.push(`${unprofitable.length} layer(s) left dense because factorization saves nothing at the chosen rank: ${unprofitable.map((u) => u.name).join(', ')}`);
  }
  return {
    model: out,
    report: {
      changed: replaced.length > 0,
      summary:
        `${replaced.length} layer(s) factorized, ${unprofitable.length} left dense (no savings), ${skipped.length} skipped; ` +
        `parameters ${paramsBefore} → ${paramsAfter} (${(paramsAfter / Math.max(1, paramsBefore)).toFixed(3)}x)` +
        (fineTune ? `, fine-tuned ${fineTune.epochs} epoch(s)` : ''),
      stats: {
        factorized: replaced.length,
        unprofitable: unprofitable.length,
        skipped: skipped.length,
        paramsBefore,
        paramsAfter,
        paramRatio: paramsAfter / Math.max(1, paramsBefore),
      },
      warnings,
      details: { layers: reports, unprofitable, skipped, rankSelection: o.rankSelection, activationAware: aware, ...(fineTune ? { fineTune } : {}) },
    },
  };
}
