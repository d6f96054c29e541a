import type { Tensor } from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { isSequence, isTensor, kindOf, type RuntimeValue } from '../value.js';
import { unsupported } from './util.js';

/**
 * ONNX SequenceMap: runs `body` once per position of the input sequence, feeding the tensor at
 * that position of it and of every additional sequence input (additional tensor inputs are fed
 * as they are); the body's outputs at each run become the items of the output sequences.
 */
registerValueOp('SequenceMap', async (inputs, ctx) => {
  const body = ctx.graph('body') ?? unsupported(ctx, 'SequenceMap without a body');
  const [seq, ...extra] = inputs;
  if (!isSequence(seq)) return unsupported(ctx, 'a first input that is not a sequence');
  const n = seq.items.length;
  for (const v of extra) {
    if (isSequence(v) && v.items.length !== n) unsupported(ctx, `additional sequences of ${v.items.length} tensors with an input sequence of ${n}`);
    if (v !== undefined && !isSequence(v) && !isTensor(v)) unsupported(ctx, `an additional input that is a ${kindOf(v)}`);
  }
  const outs: Tensor[][] = body.outputs.map(() => []);
  for (let i = 0; i < n; i++) {
    const feeds = new Map<string, RuntimeValue>();
    feeds.set(body.inputs[0]!.name, seq.items[i]!);
    extra.forEach((v, k) => {
      if (v !== undefined) feeds.set(body.inputs[k + 1]!.name, isSequence(v) ? v.items[i]! : v);
    });
    const results = await ctx.runSubgraphValues(body, feeds);
    results.forEach((r, k) => outs[k]!.push(isTensor(r) ? r : unsupported(ctx, `a body output that is a ${r ? kindOf(r) : 'missing value'}`)));
  }
  return outs.map((items) => ({ kind: 'sequence' as const, items }));
});
