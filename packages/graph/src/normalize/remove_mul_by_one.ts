import { inferValueTypes } from '../analysis/shape/infer.js';
import { broadcastShapes } from '../analysis/shape/dims.js';
import { tensorValues } from '../ir/dtypes.js';
import { cloneModel, isDefaultDomain, opsetVersion } from '../ir/graph.js';
import { removeNode } from '../ir/rewrite.js';
import { buildUseIndex } from '../ir/uses.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

const options = defineOptions({
  tolerance: { type: 'number', min: 0, max: 0.1, default: 0, description: 'treat factors within this distance of 1 as 1' },
});

/**
 * Pass 'remove-mul-by-one': removes `Mul(x, c)` when `c` is an initializer whose elements are
 * all 1 and broadcasting it leaves x's shape and dtype unchanged. (The worked example of
 * CONTRIBUTING.md's "Writing a pass".)
 */
export const removeMulByOnePass = definePass({
  specificationVersion: 'v1',
  name: 'remove-mul-by-one',
  description: 'Remove Mul nodes whose other operand is an initializer of ones.',
  optionsSchema: options,
  async run(model, ctx) {
    const m = cloneModel(model); // never modify the input model
    const g = m.graph;
    const { types } = inferValueTypes(g, { opset: opsetVersion(m) ?? 21 });
    const removed: string[] = [];
    const muls = g.nodes.filter((n) => n.opType === 'Mul' && isDefaultDomain(n.domain));
    muls.forEach((mul, i) => {
      ctx.onProgress(i / muls.length);
      const k = mul.inputs.findIndex((name) => isOnes(name));
      if (k < 0) return;
      const x = mul.inputs[1 - k]!;
      const c = g.initializers.get(mul.inputs[k]!)!;
      const xType = types.get(x);
      const xShape = xType?.shape;
      // Broadcasting must not change x: a scalar always qualifies, otherwise x's shape must be known.
      const keepsShape = c.rank === 0 || (xShape !== undefined && JSON.stringify(broadcastShapes([xShape, c.shape])) === JSON.stringify(xShape));
      if (!keepsShape || (xType?.elemType !== undefined && xType.elemType !== c.dtype)) return;
      const idx = buildUseIndex(g);
      const y = mul.outputs[0]!;
      if (idx.graphOutputs.has(y) && (!idx.producers.has(x) || idx.graphOutputs.has(x))) return; // keep output names stable
      removeNode(g, mul, x); // consumers of y now read x
      removed.push(mul.name || y);
    });
    function isOnes(name: string): boolean {
      const t = g.initializers.get(name);
      return !!t && !g.inputs.some((v) => v.name === name) && tensorValues(t).every((v) => Math.abs(v - 1) <= ctx.options.tolerance);
    }
    return {
      model: m,
      report: {
        changed: removed.length > 0,
        summary: `${removed.length} Mul-by-one node(s) removed`,
        stats: { removed: removed.length },
        details: { removed },
      },
    };
  },
});
