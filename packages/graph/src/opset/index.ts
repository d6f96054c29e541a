/**
 * Default-domain opset upgrades: {@link upgradeOpset} moves a model to a newer opset when every
 * op converts exactly, {@link opsetUpgradeBlockers} says why it cannot.
 * @module
 */
export { upgradeOpset, opsetUpgradeBlockers, type OpsetUpgrade } from './upgrade.js';
export { OpsetConversionError } from './errors.js';
export { opsetRule, convertibleOps } from './registry.js';
export { UNCHANGED_SINCE } from './unchanged.js';
export { irVersionForOpset, MIN_TARGET_OPSET, MAX_TARGET_OPSET } from './ir_version.js';
export type { OpRule, ConversionStep } from './rule.js';
export type { ConversionContext } from './context.js';
