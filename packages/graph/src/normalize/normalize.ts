import { foldConstants } from '../fold/fold_constants.js';
import { eliminateDeadCode } from '../ir/dce.js';
import { cloneModel, opsetVersion } from '../ir/graph.js';
import { graphScopes, localizeInitializers } from '../ir/scopes.js';
import type { Model } from '../ir/types.js';
import { throwIfAborted } from '../passes/context.js';
import { type PassReport, definePass } from '../passes/contract.js';
import { type OptionsOf, defineOptions } from '../passes/options.js';
import { constantsToInitializers } from './constants_to_initializers.js';
import { type DecomposeFusedResult, decomposeFusedWeightOps } from './decompose_fused.js';
import { foldBatchNorms } from './fold_batchnorm.js';
import { initializerInputsToConstants } from './initializer_inputs.js';
import { fuseMatMulAdd } from './matmul_add_to_gemm.js';
import { removeIdentities } from './remove_identity.js';
import { findSharedWeights, untieSharedWeights } from './shared_weights.js';

const spec = {
  initializerInputsToConstants: { type: 'boolean', default: true, description: 'drop graph inputs that re-declare an initializer (IR 3 exporters): the weights become constants (IR version at least 4)' },
  constantsToInitializers: { type: 'boolean', default: true, description: 'turn Constant nodes into initializers' },
  removeIdentity: { type: 'boolean', default: true, description: 'remove Identity nodes' },
  localizeInitializers: { type: 'boolean', default: true, description: 'move each weight read only inside one If/Loop/Scan subgraph into that subgraph' },
  foldConstants: { type: 'boolean', default: true, description: 'fold nodes whose inputs are all initializers (Q/DQ excluded)' },
  decomposeFusedOps: { type: 'boolean', default: true, description: "rewrite onnxruntime's FusedGemm / FusedMatMul / Attention that read a constant weight into Gemm + activation / MatMul (+ Mul by alpha) / MatMul + Add + Split + MultiHeadAttention (put back after the last step where the weight stays float)" },
  foldBatchNorm: { type: 'boolean', default: true, description: 'fold BatchNormalization into Conv/Gemm' },
  fuseMatMulAdd: { type: 'boolean', default: true, description: 'fuse MatMul + Add into Gemm' },
  untieSharedWeights: { type: 'boolean', default: false, description: 'give each consumer of a shared float initializer its own copy' },
  untieOpTypes: { type: 'string[]', default: [], description: 'with untieSharedWeights: only readers of these op types get copies (empty: every reader)' },
  eliminateDeadCode: { type: 'boolean', default: true, description: 'remove dead nodes, unused initializers and value_info' },
} as const;

/** The fused ops the front end decomposed in the graph at `path` (see graphScopes), for {@link recomposeFusedWeightOps}. */
export interface DecomposedFusedInScope {
  path: string;
  records: DecomposeFusedResult['records'];
}

/** Options of {@link normalizeModel} / the 'normalize' pass. */
export type NormalizeOptions = OptionsOf<typeof spec>;

/**
 * The canonical front end run before every technique, in order: initializers listed as graph
 * inputs (IR 3) made constants, Constant → initializers,
 * Identity removal, moving weights into the one subgraph that reads them, constant folding
 * (weights behind Transpose/Cast/Reshape become plain initializers), onnxruntime's FusedGemm /
 * FusedMatMul with a constant weight back into Gemm + activation / MatMul, BatchNorm folding,
 * MatMul+Add → Gemm, optional untying of shared weights, dead-code elimination — in the main graph
 * and in every If/Loop/Scan subgraph. Returns a new model and a combined report.
 */
export async function normalizeModel(model: Model, options: Partial<NormalizeOptions> = {}, signal?: AbortSignal): Promise<{ model: Model; report: PassReport; decomposedFused: DecomposedFusedInScope[] }> {
  const o = normalizeOptions.parse(options, 'normalize');
  let m = cloneModel(model);
  const stats: Record<string, number> = {};
  const step = (name: string): void => throwIfAborted(signal, `normalize (${name})`);
  if (o.initializerInputsToConstants) stats.initializerInputsDropped = initializerInputsToConstants(m).length;
  if (o.constantsToInitializers) {
    step('constants');
    stats.constantsConverted = constantsToInitializers(m.graph).converted;
  }
  if (o.removeIdentity) {
    step('identity');
    stats.identitiesRemoved = removeIdentities(m.graph).removed;
  }
  if (o.localizeInitializers) {
    step('localize');
    stats.initializersLocalized = localizeInitializers(m.graph);
  }
  if (o.foldConstants) {
    step('fold');
    const r = await foldConstants(m, { dce: false });
    m = r.model;
    stats.constantsFolded = r.folded.length;
  }
  const decomposedFused: DecomposedFusedInScope[] = [];
  const fusedSkipped: { node: string; reason: string; scope?: string }[] = [];
  if (o.decomposeFusedOps) {
    step('fused ops');
    stats.fusedOpsDecomposed = 0;
    for (const { graph, path } of graphScopes(m.graph)) {
      const r = decomposeFusedWeightOps(graph, opsetVersion(m) ?? 21);
      fusedSkipped.push(...r.skipped.map((x) => (path ? { ...x, scope: path } : x)));
      stats.fusedOpsDecomposed += r.decomposed.length;
      if (r.records.length) decomposedFused.push({ path, records: r.records });
    }
  }
  if (o.foldBatchNorm) {
    step('batchnorm');
    stats.batchNormsFolded = 0;
    for (const { graph } of graphScopes(m.graph)) stats.batchNormsFolded += foldBatchNorms(graph).folded.length;
  }
  if (o.fuseMatMulAdd) {
    step('gemm');
    stats.gemmsFused = 0;
    for (const { graph } of graphScopes(m.graph)) stats.gemmsFused += fuseMatMulAdd(graph, opsetVersion(m) ?? 21).fused.length;
  }
  const shared = graphScopes(m.graph).flatMap((sc) => findSharedWeights(sc.graph).map((w) => (sc.path ? { ...w, scope: sc.path } : w)));
  stats.sharedWeights = shared.length;
  if (o.untieSharedWeights) stats.weightsUntied = graphScopes(m.graph).reduce((a, sc) => a + untieSharedWeights(sc.graph, 2, o.untieOpTypes.length ? o.untieOpTypes : undefined).length, 0);
  if (o.eliminateDeadCode) {
    step('dce');
    const d = eliminateDeadCode(m.graph);
    stats.deadNodesRemoved = d.nodes;
    stats.initializersRemoved = d.initializers;
  }
  const changed = Object.entries(stats).some(([k, v]) => k !== 'sharedWeights' && v > 0);
  const done = Object.entries(stats).filter(([k, v]) => v > 0 && k !== 'sharedWeights').map(([k, v]) => `${k} ${v}`);
  // fused ops whose weights the techniques will not reach, and why
  const left = fusedSkipped.length ? `; left fused: ${fusedSkipped.map((x) => `${x.node} (${x.reason})`).join(', ')}` : '';
  return {
    model: m,
    decomposedFused,
    report: {
      changed,
      summary: `${done.length ? `normalized: ${done.join(', ')}` : 'already normalized'}${left}`,
      stats,
      details: { sharedWeights: shared, ...(fusedSkipped.length ? { fusedOpsLeft: fusedSkipped } : {}) },
    },
  };
}

const normalizeOptions = defineOptions(spec);

/** Pass 'normalize': every normalization step in one pass. */
export const normalizePass = definePass({
  specificationVersion: 'v1',
  name: 'normalize',
  description: 'Initializers listed as inputs made constants, Constants to initializers, Identity removal, constant folding, fused ops with constant weights decomposed, BatchNorm folding, MatMul+Add to Gemm, dead-code elimination.',
  optionsSchema: normalizeOptions,
  async run(model, ctx) {
    const { model: m, report } = await normalizeModel(model, ctx.options, ctx.signal);
    return { model: m, report };
  },
});
