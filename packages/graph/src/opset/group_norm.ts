import { getInt } from '../ir/attributes.js';
import { fromValues } from '../fold/layout.js';
import type { OpRule } from './rule.js';

/**
 * GroupNormalization-18 takes scale and bias per group ([num_groups]); 21 takes them per channel
 * ([C]). Constant per-group vectors are repeated C / num_groups times (channels of a group are
 * contiguous), which gives the same result.
 */
export const groupNormRule: OpRule = {
  since: 18,
  steps: [{
    at: 21,
    apply(node, ctx) {
      const groups = getInt(node, 'num_groups');
      const t = ctx.type(node.inputs[0]!);
      const c = t?.kind === 'tensor' ? t.shape?.[1] : undefined;
      if (groups === undefined || typeof c !== 'number' || c % groups !== 0) return 'the channel count is unknown, so per-group scale/bias cannot be expanded per channel';
      const per = c / groups;
      const expanded: string[] = [];
      for (const k of [1, 2]) {
        const name = node.inputs[k] ?? '';
        const v = ctx.constValues(name);
        const elem = ctx.type(name);
        if (!v || v.length !== groups || (elem?.kind === 'tensor' && elem.elemType !== 'float32')) {
          return `its ${k === 1 ? 'scale' : 'bias'} is not a constant float32 [num_groups] vector`;
        }
        expanded.push(ctx.initializer(`${name}_per_channel`, fromValues(v.flatMap((x) => Array<number>(per).fill(x)), [c], 'float32')));
      }
      node.inputs[1] = expanded[0]!;
      node.inputs[2] = expanded[1]!;
      ctx.note(`scale/bias per group -> per channel (x${per}) (GroupNormalization-21)`);
    },
  }],
};
