import type { PassReport, WeightCoverage } from '@whittle/graph';

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The "what techniques would touch" section of `whittle inspect`, as lines. */
export function techniqueLines(c: WeightCoverage, frontEnd: PassReport | undefined, upgradeBlockers: readonly string[] = []): string[] {
  const out: string[] = [];
  out.push(frontEnd ? `front end (run before every technique): ${frontEnd.summary}` : 'front end: off (graph as stored)');
  const ops = Object.entries(c.byOp);
  out.push(`weights techniques reach (${c.graphs} graph${c.graphs > 1 ? 's' : ''}, ${c.floatParameters} float parameters, ${pct(c.linearFraction)} in MatMul/Gemm/Conv/Gather):`);
  if (!ops.length) out.push('  none: no float initializer feeds a MatMul/Gemm/Conv/ConvTranspose/Gather/LSTM/GRU/RNN weight input');
  for (const [op, e] of ops) out.push(`  ${op}: ${e.weights} weight${e.weights === 1 ? '' : 's'}, ${e.parameters} parameters${e.inSubgraphs ? ` (${e.inSubgraphs} inside If/Loop/Scan subgraphs)` : ''}`);
  if (c.otherParameters) out.push(`  other float parameters (biases, norms, tables read by other ops): ${c.otherParameters}`);
  if (c.constantNodes) out.push(`  ${c.constantNodes} Constant node(s) still hold tensors: no technique sees them${frontEnd ? '' : ' (drop --no-front-end)'}`);
  for (const x of c.computed) out.push(`  ${x.node} (${x.opType}): weight computed by ${x.from}, not stored — left alone`);
  for (const t of c.shared) out.push(`  shared: ${t.name} (${t.elements} elements) read by ${t.readers.join(', ')}`);
  const lin = (c.byOp.MatMul?.weights ?? 0) + (c.byOp.Gemm?.weights ?? 0);
  const conv = c.byOp.Conv?.weights ?? 0;
  const all = lin + conv + (c.byOp.Gather?.weights ?? 0);
  // dynamic/static int8 and float16 conversion take float32 weights only
  const half = ['MatMul', 'Gemm', 'Conv', 'Gather'].reduce((t, op) => t + (c.byOp[op]?.float16 ?? 0), 0);
  const quantize = half ? `quantize weights/cluster → ${all} weights; quantize dynamic/static/float16 → ${all - half} (${half} float16 already)` : `quantize weights/dynamic/cluster/float16 → ${all} weights`;
  out.push(`by technique: ${quantize}; prune → ${lin + conv}; factorize → ${lin} linear + ${conv} conv`);
  if (c.opset < 21) {
    out.push(`opset ${c.opset}: block-wise and int4 DequantizeLinear need opset 21; ${upgradeBlockers.length ? `the upgrade is blocked (${upgradeBlockers.join('; ')}), so techniques fall back to forms valid at ${c.opset} (MatMulNBits, per-channel int8) and say so` : 'every op converts, so techniques that need it upgrade the opset to 21 and say so'}`);
  }
  return out;
}
