import { isRawTensor, subgraphsOf } from '../ir/attributes.js';
import { fromValues } from '../fold/layout.js';
import { cloneModel, isDefaultDomain } from '../ir/graph.js';
import type { Graph, Node } from '../ir/types.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

/** Move one Constant node's value into the graph's initializers; false when it cannot. */
function moveConstant(g: Graph, n: Node, outputs: Set<string>): boolean {
  const out = n.outputs[0];
  if (!out || outputs.has(out) || n.attributes.size !== 1) return false;
  const [name, a] = [...n.attributes][0]!;
  if (name === 'value' && a.type === 'tensor') {
    if (isRawTensor(a.value)) g.rawInitializers.set(out, a.value);
    else g.initializers.set(out, a.value);
  } else if (name === 'value_float' && a.type === 'float') g.initializers.set(out, fromValues([a.value], [], 'float32'));
  else if (name === 'value_floats' && a.type === 'floats') g.initializers.set(out, fromValues(a.value, [a.value.length], 'float32'));
  else if (name === 'value_int' && a.type === 'int') g.initializers.set(out, fromValues([a.value], [], 'int64'));
  else if (name === 'value_ints' && a.type === 'ints') g.initializers.set(out, fromValues(a.value, [a.value.length], 'int64'));
  else return false; // value_string(s), sparse_value: kept as nodes
  g.valueInfo.delete(out);
  return true;
}

/** Options of {@link constantsToInitializers}. */
export interface ConstantsToInitializersOptions {
  /** Convert only the Constant nodes this accepts (e.g. the weights `constantWeights` finds, not shapes or scalars). */
  only?: (node: Node) => boolean;
}

/**
 * Turn Constant nodes (value, value_float(s), value_int(s)) into initializers, in place, in `g`
 * and its subgraphs. Constants producing graph outputs and string/sparse constants stay nodes.
 */
export function constantsToInitializers(g: Graph, opts: ConstantsToInitializersOptions = {}): { converted: number; kept: number } {
  let converted = 0;
  let kept = 0;
  const outputs = new Set(g.outputs.map((o) => o.name));
  g.nodes = g.nodes.filter((n) => {
    for (const sg of subgraphsOf(n)) {
      const r = constantsToInitializers(sg, opts);
      converted += r.converted;
      kept += r.kept;
    }
    if (n.opType !== 'Constant' || !isDefaultDomain(n.domain)) return true;
    if ((!opts.only || opts.only(n)) && moveConstant(g, n, outputs)) {
      converted++;
      return false;
    }
    kept++;
    return true;
  });
  return { converted, kept };
}

/** Pass 'constants-to-initializers'. */
export const constantsToInitializersPass = definePass({
  specificationVersion: 'v1',
  name: 'constants-to-initializers',
  description: 'Turn Constant nodes (value, value_float(s), value_int(s)) into initializers so passes see them as weights.',
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const { converted, kept } = constantsToInitializers(m.graph);
    return {
      model: m,
      report: { changed: converted > 0, summary: `${converted} Constant node(s) turned into initializers, ${kept} kept`, stats: { converted, kept } },
    };
  },
});
