/**
 * Embedding tables of dynamic int8 as int8 rows dequantized after the Gather: Gather of the int8
 * table and of its per-row scales, Cast, Mul. A DequantizeLinear in front of the Gather
 * dequantizes the whole table on every run (onnxruntime does not constant-fold
 * DequantizeLinear), which for a [30522, 768] vocabulary costs more than the Gather itself;
 * gathering first dequantizes only the rows looked up. Valid at every opset.
 */
import { type NameGenerator, createNode } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor } from './emit.js';
import type { QuantizedWeight, WeightSite } from './weights.js';
import { readersOf } from './write_weights.js';

/**
 * Whether the table of `sites` (one weight) can be gathered as int8 rows: every reader of the
 * initializer is one of these Gathers on its data input, it is no graph output, and `q` is
 * symmetric 8-bit per row.
 */
export function gatherRowsEligible(sites: readonly WeightSite[], q: Pick<QuantizedWeight, 'bits' | 'symmetric' | 'granularity'>): boolean {
  const first = sites[0];
  if (!first || q.bits !== 8 || !q.symmetric || q.granularity !== 'per-channel') return false;
  if (!sites.every((s) => s.node.opType === 'Gather' && s.input === 0 && s.rowAxis === 0)) return false;
  const readers = readersOf(first.graph, first.name);
  return readers.outputs === 0 && readers.nodes.length === sites.length && readers.nodes.every((r) => sites.some((s) => s.node === r.node));
}

/** Stored bytes of the int8-rows form of `q` (int8 table + one float32 scale per row). */
export function gatherRowsBytes(q: Pick<QuantizedWeight, 'rows' | 'cols'>): number {
  return q.rows * q.cols + q.rows * 4;
}

/**
 * Replace the float table read by `sites` (see {@link gatherRowsEligible}) by int8 rows
 * [V, D] and scales [V, 1]; each Gather becomes Gather(int8) → Cast → Mul by Gather(scales),
 * the Mul writing the Gather's output. Returns the names of the int8 table and the scales.
 */
export function emitGatherRows(sites: readonly WeightSite[], q: QuantizedWeight, names: NameGenerator): { table: string; scales: string } {
  const first = sites[0]!;
  const owner = first.graph;
  // symmetric codes are stored unsigned around 128
  const codes = new Int8Array(q.rows * q.cols);
  for (let i = 0; i < codes.length; i++) codes[i] = q.codes[i]! - 128;
  const table = names.value(`${first.name}_quantized`);
  const scales = names.value(`${first.name}_scale`);
  owner.initializers.set(table, tensor(codes, [q.rows, q.cols], 'int8', { backend: 'cpu' }));
  owner.initializers.set(scales, cpuTensor(q.scales, [q.rows, 1], 'float32'));
  owner.initializers.delete(first.name);
  for (const s of sites) {
    const n = s.node;
    const g = s.nodeGraph;
    const ids = n.inputs[1]!;
    const y = n.outputs[0]!;
    const base = n.name || first.name;
    const rows = names.value(`${y}_int8`);
    const rowsF = names.value(`${y}_int8_float`);
    const rowScales = names.value(`${y}_scale`);
    g.nodes.splice(
      g.nodes.indexOf(n),
      1,
      createNode('Gather', [table, ids], [rows], { axis: { type: 'int', value: 0 } }, { name: names.node(`${base}_int8`) }),
      createNode('Gather', [scales, ids], [rowScales], { axis: { type: 'int', value: 0 } }, { name: names.node(`${base}_scale`) }),
      createNode('Cast', [rows], [rowsF], { to: { type: 'int', value: 1 } }, { name: names.node(`${base}_Cast`) }),
      createNode('Mul', [rowsF, rowScales], [y], {}, { name: names.node(`${base}_dequantize`) }),
    );
  }
  return { table, scales };
}
