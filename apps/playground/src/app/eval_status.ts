/** The evaluate section's status line after an evaluation. */
import type { EvalData, Variant } from './state.js';

/**
 * 'Evaluated on …' when every variant ran; an error naming the variants onnxruntime-web could not
 * run (and the first reason) otherwise — a table of dashes is not a finished evaluation.
 */
export function evaluationStatus(variants: readonly Variant[], data: EvalData | undefined, runtime: string | undefined): { text: string; kind: 'ok' | 'error' } {
  if (!data) return { text: '', kind: 'ok' };
  const failed = variants.filter((v) => v.eval?.error);
  const where = `${data.label} (${data.info.count} samples) in ${runtime ?? 'onnxruntime-web'}`;
  if (!failed.length) return { text: `Evaluated on ${where}.`, kind: 'ok' };
  const names = failed.map((v) => v.name).join(', ');
  return { text: `onnxruntime-web could not run ${names} on ${where}: ${failed[0]!.eval!.error} — if the data does not fit the model's inputs, choose your own data.`, kind: 'error' };
}
