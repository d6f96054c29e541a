/**
 * The passes of @whittle/distill, without registering them (no side effects): for code that runs
 * them as objects (`runPass(pass, model)`, `new PassManager().add(pass)`) or registers them itself.
 * The package root is the registering entry: importing it registers DISTILL_PASSES.
 * @module
 */
import { distillPass } from './distill_pass.js';

export { distillPass };

/** The passes this package registers (in this order), each declaring its CLI command. */
export const DISTILL_PASSES = [distillPass] as const;
