import { isFloat } from '@whittle/tensor';
import { inferValueTypes } from '../analysis/shape/infer.js';
import { cloneModel, createNode, isDefaultDomain, opsetVersion } from '../ir/graph.js';
import { NameGenerator } from '../ir/names.js';
import type { Graph } from '../ir/types.js';
import { buildUseIndex } from '../ir/uses.js';
import { definePass } from '../passes/contract.js';
import { defineOptions } from '../passes/options.js';

/**
 * Fuse MatMul(A, B) + Add(·, C) into Gemm(A, B, C), in place, where A is 2-D (by shape
 * inference), B is a 2-D float initializer [K, N], C an initializer broadcastable to [N]
 * (shape [], [1], [N] or [1, N]) and the MatMul result has no other use.
 */
export function fuseMatMulAdd(g: Graph, opset = 21): { fused: string[]; skipped: { node: string; reason: string }[] } {
  const fused: string[] = [];
  const skipped: { node: string; reason: string }[] = [];
  const { types } = inferValueTypes(g, { opset });
  const names = new NameGenerator(g);
  const inputs = new Set(g.inputs.map((v) => v.name));
  for (const add of g.nodes.filter((n) => n.opType === 'Add' && isDefaultDomain(n.domain) && n.inputs.length === 2)) {
    const idx = buildUseIndex(g);
    const k = add.inputs.findIndex((x) => idx.producers.get(x)?.node.opType === 'MatMul');
    if (k < 0) continue;
    const mmOut = add.inputs[k]!;
    const mm = idx.producers.get(mmOut)!.node;
    const cName = add.inputs[1 - k]!;
    const label = mm.name || mmOut;
    const skip = (reason: string): void => void skipped.push({ node: label, reason });
    if (!isDefaultDomain(mm.domain)) continue;
    const uses = idx.consumers.get(mmOut) ?? [];
    if (uses.length !== 1 || idx.graphOutputs.has(mmOut)) {
      skip('MatMul output has other uses');
      continue;
    }
    const b = g.initializers.get(mm.inputs[1] ?? '');
    const c = g.initializers.get(cName);
    if (!b || b.rank !== 2 || !isFloat(b.dtype) || inputs.has(mm.inputs[1]!)) {
      skip('B is not a 2-D float initializer');
      continue;
    }
    const n = b.shape[1]!;
    if (!c || inputs.has(cName) || c.dtype !== b.dtype) {
      skip('bias is not an initializer of the weight dtype');
      continue;
    }
    const cs = c.shape;
    const okBias = cs.length === 0 || (cs.length === 1 && (cs[0] === n || cs[0] === 1)) || (cs.length === 2 && cs[0] === 1 && (cs[1] === n || cs[1] === 1));
    if (!okBias) {
      skip(`bias shape [${cs.join(',')}] does not broadcast to [${n}]`);
      continue;
    }
    const aShape = types.get(mm.inputs[0]!)?.shape;
    if (aShape?.length !== 2) {
      skip(aShape ? `A has rank ${aShape.length}, Gemm needs 2` : 'rank of A unknown');
      continue;
    }
    const gemm = createNode('Gemm', [mm.inputs[0]!, mm.inputs[1]!, cName], [add.outputs[0]!], {}, { name: mm.name || names.node('Gemm') });
    g.nodes.splice(g.nodes.indexOf(add), 1, gemm);
    g.nodes.splice(g.nodes.indexOf(mm), 1);
    g.valueInfo.delete(mmOut);
    fused.push(label);
  }
  return { fused, skipped };
}

/** Pass 'fuse-matmul-add'. */
export const fuseMatMulAddPass = definePass({
  specificationVersion: 'v1',
  name: 'fuse-matmul-add',
  description: 'Fuse MatMul + Add into Gemm where A is 2-D, B a 2-D initializer and the bias broadcasts to [N].',
  optionsSchema: defineOptions({}),
  async run(model) {
    const m = cloneModel(model);
    const { fused, skipped } = fuseMatMulAdd(m.graph, opsetVersion(m) ?? 21);
    return {
      model: m,
      report: {
        changed: fused.length > 0,
        summary: `${fused.length} MatMul+Add pair(s) fused into Gemm`,
        stats: { fused: fused.length, skipped: skipped.length },
        details: { fused, skipped },
      },
    };
  },
});
