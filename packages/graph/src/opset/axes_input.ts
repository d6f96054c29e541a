import type { OpRule, ConversionStep } from './rule.js';

/** A step moving the `axes` attribute to input 1 (absent attribute: no input, same meaning). */
function axesToInput(at: number): ConversionStep {
  return {
    at,
    apply(node, ctx) {
      const a = node.attributes.get('axes');
      if (a === undefined) return;
      if (a.type !== 'ints') return `attribute axes is ${a.type}, expected ints`;
      if (a.value.length === 0) {
        // An empty list meant "all axes", exactly like an absent one.
        node.attributes.delete('axes');
        return;
      }
      ctx.intsAttrToInput(node, 'axes', 1);
      ctx.note(`axes attribute -> int64 input (${node.opType}-${at})`);
    },
  };
}

/** Squeeze-13 / Unsqueeze-13 take axes as an input (11 allowed negative axes, same meaning). */
export const squeezeRule: OpRule = { since: 1, steps: [axesToInput(13)] };

/** ReduceSum-13 takes axes as an input (noop_with_empty_axes defaults to 0: no axes = all). */
export const reduceSumRule: OpRule = { since: 1, steps: [axesToInput(13)] };

/** ReduceMean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare-18 take axes as an input. */
export const reduceRule: OpRule = { since: 1, steps: [axesToInput(18)] };

/** The reductions that moved axes to an input at 18. */
export const REDUCE_18 = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];
