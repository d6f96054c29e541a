import { WhittleError } from '@whittle/tensor';

/**
 * An evaluation that could not be carried out: a model ORT refuses, an output that is missing or
 * has the wrong size, variants that cannot be compared. The message names the model/variant.
 */
export class EvaluationError extends WhittleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_EVAL', message, options);
  }
}

/** A Transformers.js layout that cannot be written (unknown dtype, bad config file, target in the way). */
export class LayoutError extends WhittleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_LAYOUT', message, options);
  }
}
