import { isFloat, tensor } from '@whittle/tensor';
import { initializerSize } from '../ir/dtypes.js';
import { cloneModel } from '../ir/graph.js';
import { NameGenerator } from '../ir/names.js';
import type { Graph, Node } from '../ir/types.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

/** An initializer read by more than one node input. */
export interface SharedWeight {
  name: string;
  elements: number;
  /** Consumers as `node name (OpType) input k`. */
  uses: string[];
}

function usesOf(g: Graph): Map<string, { node: Node; input: number }[]> {
  const m = new Map<string, { node: Node; input: number }[]>();
  for (const node of g.nodes) {
    node.inputs.forEach((x, input) => {
      if (!x || !(g.initializers.has(x) || g.rawInitializers.has(x))) return;
      const l = m.get(x) ?? [];
      l.push({ node, input });
      m.set(x, l);
    });
  }
  return m;
}

/** Initializers of the main graph read by more than one node input slot. */
export function findSharedWeights(g: Graph): SharedWeight[] {
  const out: SharedWeight[] = [];
  for (const [name, uses] of usesOf(g)) {
    if (uses.length < 2) continue;
    const t = g.initializers.get(name) ?? g.rawInitializers.get(name)!;
    out.push({ name, elements: initializerSize(t), uses: uses.map((u) => `${u.node.name || '?'} (${u.node.opType}) input ${u.input}`) });
  }
  return out;
}

/**
 * Give every use of a shared float initializer (with at least `minElements` elements) after the
 * first its own copy, in place. With `opTypes`, only uses by nodes of those op types count: an
 * initializer is untied when two or more of them read it, and other readers keep the original
 * (e.g. ['Gather', 'Transpose', 'MatMul', 'Gemm'] unties an LM head tied to the embedding table
 * but leaves the rotary caches every attention node reads shared). Returns the names created.
 */
export function untieSharedWeights(g: Graph, minElements = 2, opTypes?: readonly string[]): string[] {
  const names = new NameGenerator(g);
  const created: string[] = [];
  for (const [name, all] of usesOf(g)) {
    const t = g.initializers.get(name);
    const uses = opTypes ? all.filter((u) => opTypes.includes(u.node.opType)) : all;
    if (uses.length < 2 || !t || !isFloat(t.dtype) || t.size < minElements) continue;
    // with a filter, the first use keeps the original only when no other reader holds it
    const copied = opTypes && uses.length < all.length ? uses : uses.slice(1);
    for (const u of copied) {
      const copyName = names.value(`${name}_untied`);
      g.initializers.set(copyName, tensor(t.dataSync().slice(), [...t.shape], t.dtype, { backend: 'cpu' }));
      u.node.inputs[u.input] = copyName;
      created.push(copyName);
    }
  }
  return created;
}

const options = defineOptions({
  untieSharedWeights: { type: 'boolean', default: false, description: 'copy shared float initializers so that every consumer has its own' },
  minElements: { type: 'number', integer: true, min: 1, default: 2, description: 'only untie initializers with at least this many elements' },
});

/** Pass 'shared-weights': reports initializers used by several nodes; optionally unties them. */
export const sharedWeightsPass = definePass({
  specificationVersion: 'v1',
  name: 'shared-weights',
  description: 'Report initializers shared by several nodes; with untieSharedWeights, give each consumer its own copy.',
  optionsSchema: options,
  async run(model, ctx) {
    const shared = findSharedWeights(model.graph);
    if (!ctx.options.untieSharedWeights) {
      return {
        model,
        report: { changed: false, summary: `${shared.length} shared initializer(s)`, stats: { shared: shared.length }, details: { shared } },
      };
    }
    const m = cloneModel(model);
    const created = untieSharedWeights(m.graph, ctx.options.minElements);
    return {
      model: m,
      report: {
        changed: created.length > 0,
        summary: `${shared.length} shared initializer(s); ${created.length} copie(s) made`,
        stats: { shared: shared.length, copies: created.length },
        details: { shared, created },
      },
    };
  },
});
