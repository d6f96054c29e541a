import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX Scan (opset 9+): N state variables and M scan inputs sliced along their scan axes
 * (reversed per scan_input_directions); scan outputs stacked along scan_output_axes.
 */
registerOp('Scan', async (inputs, ctx) => {
  if (ctx.opset < 9) unsupported(ctx, 'Scan-8 (batched with sequence_lens)');
  const body = ctx.graph('body') ?? unsupported(ctx, 'Scan without a body');
  const m = ctx.int('num_scan_inputs', 0);
  const xs = inputs.map((t) => t!);
  const n = xs.length - m;
  let state = xs.slice(0, n);
  const scanIn = xs.slice(n);
  const inAxes = (ctx.ints('scan_input_axes') ?? scanIn.map(() => 0)).map((a, i) => (a < 0 ? a + scanIn[i]!.rank : a));
  const inDirs = ctx.ints('scan_input_directions') ?? scanIn.map(() => 0);
  const steps = scanIn[0]!.shape[inAxes[0]!]!;
  const names = body.inputs.map((v) => v.name);
  const nOut = body.outputs.length - n;
  const collected: Tensor[][] = Array.from({ length: nOut }, () => []);
  for (let t = 0; t < steps; t++) {
    const feeds = new Map<string, Tensor>();
    state.forEach((s, k) => feeds.set(names[k]!, s));
    scanIn.forEach((x, k) => {
      const a = inAxes[k]!;
      const idx = inDirs[k] ? steps - 1 - t : t;
      feeds.set(names[n + k]!, T.squeeze(T.slice(x, [idx], [idx + 1], [a]), [a]));
    });
    const outs = await ctx.runSubgraph(body, feeds);
    state = outs.slice(0, n);
    outs.slice(n).forEach((o, k) => collected[k]!.push(o));
  }
  const outAxes = ctx.ints('scan_output_axes') ?? collected.map(() => 0);
  const outDirs = ctx.ints('scan_output_directions') ?? collected.map(() => 0);
  const scanOut = collected.map((list, k) => {
    const ordered = outDirs[k] ? [...list].reverse() : list;
    const r = (ordered[0]?.rank ?? 0) + 1;
    const a = outAxes[k]! < 0 ? outAxes[k]! + r : outAxes[k]!;
    return T.concat(ordered.map((o) => T.unsqueeze(o, [a])), a);
  });
  return [...state, ...scanOut];
});
