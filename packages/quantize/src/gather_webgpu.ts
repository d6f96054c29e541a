/**
 * GatherBlockQuantized nodes whose zero points onnxruntime-web's WebGPU kernel cannot read. For
 * uint8 data with bits = 4 it reads the zero points as packed 4-bit values (two per byte, the last
 * dim doubled) and requires that shape to equal the scales'; onnxruntime's CPU kernel also takes
 * one zero point per byte. So an asymmetric table with an odd number of blocks per row, or zero
 * points stored one per block, runs on the CPU only.
 */
import { type Graph, type Model, getInt, graphScopes } from '@whittle/graph';

/** The static shape of `name` in `chain`: an initializer's, or a Reshape's constant target shape. */
function shapeOf(chain: readonly Graph[], name: string): number[] | undefined {
  for (const g of chain) {
    const t = g.initializers.get(name);
    if (t) return [...t.shape];
    const raw = g.rawInitializers.get(name);
    if (raw) return [...raw.dims];
    const r = g.nodes.find((n) => n.opType === 'Reshape' && n.outputs[0] === name);
    if (r) {
      const target = chain.map((x) => x.initializers.get(r.inputs[1] ?? '')).find((x) => x !== undefined);
      const dims = target?.dataSync();
      return dims && !Array.from(dims as ArrayLike<number | bigint>).some((d) => Number(d) <= 0) ? Array.from(dims as ArrayLike<number | bigint>, Number) : undefined;
    }
  }
  return undefined;
}

/** Names of the GatherBlockQuantized nodes (with subgraph path) that onnxruntime-web's WebGPU provider refuses for their zero points' layout. */
export function gathersWebGpuRefuses(model: Model): string[] {
  const out: string[] = [];
  for (const s of graphScopes(model.graph)) {
    const chain: Graph[] = [s.graph];
    for (let p = s.parent; p; p = p.parent) chain.push(p.graph);
    for (const n of s.graph.nodes) {
      if (n.opType !== 'GatherBlockQuantized' || !n.inputs[3] || getInt(n, 'bits', 4) !== 4) continue;
      const data = chain.map((g) => g.initializers.get(n.inputs[0]!)?.dtype ?? g.rawInitializers.get(n.inputs[0]!)?.dataType).find((x) => x !== undefined);
      if (data !== undefined && data !== 'uint8') continue;
      const scales = shapeOf(chain, n.inputs[2]!);
      const zeros = shapeOf(chain, n.inputs[3]);
      if (!scales || !zeros) continue;
      const packed = [...zeros.slice(0, -1), zeros[zeros.length - 1]! * 2];
      if (packed.join('x') !== scales.join('x')) out.push(s.path ? `${s.path}/${n.name}` : n.name);
    }
  }
  return out;
}

/** The warning for {@link gathersWebGpuRefuses}' nodes ('' when there are none). */
export function gatherWebGpuWarning(model: Model): string {
  const bad = gathersWebGpuRefuses(model);
  if (!bad.length) return '';
  return `${bad.length} GatherBlockQuantized node(s) store asymmetric zero points onnxruntime-web's WebGPU provider cannot read (an odd number of blocks per row: it takes 4-bit zero points packed two per byte only), so they run on onnxruntime's CPU only: ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', …' : ''}; a symmetric grid, or a block size giving an even number of blocks per row, runs on WebGPU`;
}
