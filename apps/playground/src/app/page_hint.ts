/** Page-side messages for runs that made nothing: a failed pass, or steps that changed nothing. */
import type { StepSummary } from '../worker/protocol.js';

/** Where the page takes what a failed pass asked for, or '' when there is nothing to add. */
export function pageHint(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return /needs training data/.test(message) ? ' On this page, training data is the labeled data picked under Evaluate → Data (the MNIST demo, or your files with labels).' : '';
}

/**
 * When no step changed the model, the message saying so (each step's own summary of why), else
 * undefined: a variant equal to the original is no result to add or call 'Done'.
 */
export function nothingChanged(steps: readonly Pick<StepSummary, 'pass' | 'summary' | 'changed'>[]): string | undefined {
  if (steps.some((s) => s.changed)) return undefined;
  return `Nothing changed: no step of the recipe applied to this model (${steps.map((s) => `${s.pass}: ${s.summary}`).join('; ')}); no variant added.`;
}
