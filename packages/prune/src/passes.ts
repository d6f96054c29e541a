/**
 * The passes of @whittle/prune, without registering them (no side effects): for code that runs
 * them as objects (`runPass(pass, model)`, `new PassManager().add(pass)`) or registers them itself.
 * The package root is the registering entry: importing it registers PRUNE_PASSES.
 * @module
 */
import { pruneUnstructured } from './unstructured.js';
import { pruneNM } from './nm_pass.js';
import { pruneStructured } from './structured/structured.js';
import { pruneSensitivity } from './sensitivity.js';
import { pruneGradual } from './gradual_pass.js';
import { pruneSparseGpt } from './sparsegpt_pass.js';

export { pruneUnstructured, pruneNM, pruneStructured, pruneSensitivity, pruneGradual, pruneSparseGpt };

/** The passes this package registers (in this order), each declaring its CLI command. */
export const PRUNE_PASSES = [pruneUnstructured, pruneNM, pruneStructured, pruneSensitivity, pruneGradual, pruneSparseGpt] as const;
