import { inferShapes } from '../analysis/shape/infer.js';
import { DEFAULT_FOLD_EXCLUDES, foldConstants } from '../fold/fold_constants.js';
import { eliminateDeadCode } from '../ir/dce.js';
import { cloneModel } from '../ir/graph.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

/** Pass 'fold-constants'. */
export const foldConstantsPass = definePass({
  specificationVersion: 'v1',
  name: 'fold-constants',
  description: 'Replace nodes whose inputs are all initializers by initializers holding their results.',
  optionsSchema: defineOptions({
    maxOutputElements: { type: 'number', integer: true, min: 0, default: 1 << 20, description: 'do not fold results with more elements than this' },
    excludeOps: { type: 'string[]', default: DEFAULT_FOLD_EXCLUDES, description: 'op types never folded (Q/DQ keep quantized weights quantized)' },
    foldStaticShapes: { type: 'boolean', default: true, description: 'fold Shape of values whose shape is fully known' },
  }),
  async run(model, ctx) {
    const r = await foldConstants(model, ctx.options);
    return {
      model: r.model,
      report: {
        changed: r.folded.length > 0,
        summary: `${r.folded.length} node(s) folded into initializers`,
        stats: { folded: r.folded.length, skipped: r.skipped.length },
        details: { folded: r.folded, skipped: r.skipped },
      },
    };
  },
});

/** Pass 'eliminate-dead-code'. */
export const deadCodePass = definePass({
  specificationVersion: 'v1',
  name: 'eliminate-dead-code',
  description: 'Remove nodes whose outputs reach no graph output, and unused initializers and value_info.',
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const s = eliminateDeadCode(m.graph);
    const changed = s.nodes + s.initializers + s.valueInfo > 0;
    return {
      model: m,
      report: { changed, summary: `${s.nodes} node(s), ${s.initializers} initializer(s), ${s.valueInfo} value_info removed`, stats: { ...s } },
    };
  },
});

/** Pass 'infer-shapes'. */
export const inferShapesPass = definePass({
  specificationVersion: 'v1',
  name: 'infer-shapes',
  description: 'Infer element types and shapes (symbolic dims kept) and record them as value_info.',
  optionsSchema: defineOptions({
    strict: { type: 'boolean', default: false, description: 'fail on the first shape inconsistency' },
  }),
  async run(model, ctx) {
    const m = inferShapes(model, { strict: ctx.options.strict });
    const added = m.graph.valueInfo.size - model.graph.valueInfo.size;
    return {
      model: m,
      report: { changed: added !== 0, summary: `${m.graph.valueInfo.size} value_info entries (${added} new)`, stats: { valueInfo: m.graph.valueInfo.size, added } },
    };
  },
});
