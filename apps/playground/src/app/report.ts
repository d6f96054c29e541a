import { type EvaluationReport, type VariantResult, buildReport, modelCard } from '@whittle/eval';
import { DEMO_CARD } from '../data/demo.js';
import type { AppState, Variant } from './state.js';

function notes(v: Variant, runtime: string | undefined): string | undefined {
  const parts = [
    ...(v.steps ?? []).map((s) => `${s.pass}: ${s.summary}`),
    v.backend ? `passes ran on ${v.backend.name}${v.backend.adapter ? ` (${v.backend.adapter})` : ''}` : '',
    runtime ? `evaluated in ${runtime}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : undefined;
}

/** A variant as @whittle/eval's report input (undefined until it was evaluated). */
export function variantResult(v: Variant, runtime?: string): VariantResult | undefined {
  if (!v.eval) return undefined;
  const r: VariantResult = { name: v.name, technique: v.technique, size: v.eval.size };
  if (v.eval.accuracy !== undefined) r.accuracy = v.eval.accuracy;
  if (v.eval.fidelity) r.fidelity = v.eval.fidelity;
  const n = notes(v, runtime);
  if (n) r.notes = n;
  return r;
}

/** The report over every evaluated variant (baseline: the original), or undefined before any evaluation. */
export function currentReport(state: AppState, runtime?: string): EvaluationReport | undefined {
  const original = state.variants[0];
  if (!original?.eval || !state.model) return undefined;
  const rows = state.variants.map((v) => variantResult(v, runtime)).filter((r): r is VariantResult => !!r);
  const opts: Parameters<typeof buildReport>[1] = { title: `Whittle playground: ${state.model.name}`, baseline: original.name, sizeBasis: state.sizeBasis };
  if (state.evalData) opts.dataset = state.evalData.info;
  return buildReport(rows, opts);
}

/** The model card of the selected variant. */
export function currentModelCard(state: AppState, report: EvaluationReport): string {
  const v = state.variants[state.selected] ?? state.variants[0]!;
  const demo = state.model?.demo;
  const limitations = state.evalData && !state.evalData.dataset.labels ? ['Evaluated on unlabeled data: fidelity to the original is measured, accuracy is not.'] : [];
  return modelCard(report, {
    variant: v.name,
    ...(demo ? DEMO_CARD : { description: `ONNX model '${state.model?.name ?? v.name}' compressed in the Whittle playground.` }),
    limitations,
  });
}
