import { REDUCE_18, reduceRule, reduceSumRule, squeezeRule } from './axes_input.js';
import { batchNormRule } from './batch_norm.js';
import { clipRule } from './clip.js';
import { dropoutRule } from './dropout.js';
import { groupNormRule } from './group_norm.js';
import { LEGACY_BROADCAST_OPS, legacyBroadcastRule } from './legacy_broadcast.js';
import { convTransposeRule, gridSampleRule, roiAlignRule, scatterRule } from './misc_rules.js';
import { ORT_DEFAULT_DOMAIN_RULES } from './ort_default_domain.js';
import { padRule } from './pad.js';
import { resizeRule, upsampleRule } from './resize.js';
import type { OpRule } from './rule.js';
import { sliceRule } from './slice.js';
import { softmaxRule } from './softmax.js';
import { splitRule } from './split.js';
import { topKRule } from './topk.js';
import { UNCHANGED_SINCE } from './unchanged.js';

const RULES = new Map<string, OpRule>();
for (const [op, since] of Object.entries(UNCHANGED_SINCE)) RULES.set(op, { since });
for (const op of LEGACY_BROADCAST_OPS) RULES.set(op, legacyBroadcastRule);
for (const op of REDUCE_18) RULES.set(op, reduceRule);
for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) RULES.set(op, softmaxRule);
for (const [op, rule] of Object.entries({
  Slice: sliceRule, Clip: clipRule, Pad: padRule, TopK: topKRule, Split: splitRule, Dropout: dropoutRule,
  Squeeze: squeezeRule, Unsqueeze: squeezeRule, ReduceSum: reduceSumRule, BatchNormalization: batchNormRule,
  Upsample: upsampleRule, Resize: resizeRule, Scatter: scatterRule, RoiAlign: roiAlignRule,
  GridSample: gridSampleRule, ConvTranspose: convTransposeRule, GroupNormalization: groupNormRule,
  ...ORT_DEFAULT_DOMAIN_RULES,
})) {
  RULES.set(op, rule);
}

/** The conversion rule of a default-domain op type, if the converter knows it. */
export function opsetRule(opType: string): OpRule | undefined {
  return RULES.get(opType);
}

/** Every default-domain op type the converter knows, sorted. */
export function convertibleOps(): string[] {
  return [...RULES.keys()].sort();
}
