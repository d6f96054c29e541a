/**
 * The passes of @whittle/lowrank, without registering them (no side effects): for code that runs
 * them as objects (`runPass(pass, model)`, `new PassManager().add(pass)`) or registers them itself.
 * The package root is the registering entry: importing it registers LOWRANK_PASSES.
 * @module
 */
import { lowrankLinearPass } from './lowrank_linear.js';
import { lowrankConvPass } from './lowrank_conv.js';
import { lowrankPass } from './lowrank.js';

export { lowrankLinearPass, lowrankConvPass, lowrankPass };

/** The passes this package registers (in this order), each declaring its CLI command. */
export const LOWRANK_PASSES = [lowrankLinearPass, lowrankConvPass, lowrankPass] as const;
