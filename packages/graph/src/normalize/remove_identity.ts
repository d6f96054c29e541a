import { subgraphsOf } from '../ir/attributes.js';
import { cloneModel, isDefaultDomain } from '../ir/graph.js';
import { removeNode } from '../ir/rewrite.js';
import type { Graph } from '../ir/types.js';
import { buildUseIndex } from '../ir/uses.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

/**
 * Remove Identity nodes in place (also in subgraphs): consumers read the Identity's input
 * instead. Graph output names stay stable: when the output of an Identity is a graph output, its
 * input is renamed to that output if it is produced by a node (otherwise the Identity is kept).
 */
export function removeIdentities(g: Graph): { removed: number; kept: number } {
  let removed = 0;
  let kept = 0;
  for (const n of g.nodes) {
    for (const sg of subgraphsOf(n)) {
      const r = removeIdentities(sg);
      removed += r.removed;
      kept += r.kept;
    }
  }
  for (const n of g.nodes.filter((x) => x.opType === 'Identity' && isDefaultDomain(x.domain))) {
    const x = n.inputs[0];
    const y = n.outputs[0];
    if (!x || !y) {
      kept++;
      continue;
    }
    const idx = buildUseIndex(g);
    if (idx.graphOutputs.has(y)) {
      const renamable = idx.producers.has(x) && !idx.graphOutputs.has(x) && !g.inputs.some((v) => v.name === x);
      if (!renamable) {
        kept++;
        continue;
      }
    }
    removeNode(g, n, x);
    removed++;
  }
  return { removed, kept };
}

/** Pass 'remove-identity'. */
export const removeIdentityPass = definePass({
  specificationVersion: 'v1',
  name: 'remove-identity',
  description: 'Remove Identity nodes (chains included), keeping graph output names stable.',
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const { removed, kept } = removeIdentities(m.graph);
    return {
      model: m,
      report: { changed: removed > 0, summary: `${removed} Identity node(s) removed, ${kept} kept`, stats: { removed, kept } },
    };
  },
});
