/** A metric of your own: a JS module whose default export computes named numbers (node only). */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EvaluationError } from '../errors.js';

/** An array with its shape, as the metric receives outputs, inputs and targets. */
export interface MetricArray {
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Float64Array;
  dims: number[];
}

/**
 * What a user metric is called with, once per model, over the whole evaluation data: arrays
 * joined along the batch axis, by name.
 */
export interface UserMetricArgs {
  /** This model's outputs. */
  outputs: Record<string, MetricArray>;
  /** The baseline's outputs on the same inputs (absent when evaluating the baseline itself). */
  reference?: Record<string, MetricArray> | undefined;
  /** The inputs fed. */
  inputs: Record<string, MetricArray>;
  /** Class labels, when the data has them. */
  labels?: Int32Array | undefined;
  /** Expected outputs, when the data has them (ONNX test-data `output_K.pb`). */
  targets?: Record<string, MetricArray> | undefined;
}

/** A user metric: named numbers (e.g. `{ f1: 0.91 }`), possibly async. */
export type UserMetric = (args: UserMetricArgs) => Record<string, number> | Promise<Record<string, number>>;

/**
 * Load a metric module (`.mjs`/`.js` ESM or CommonJS) whose default export is a {@link UserMetric};
 * the returned function checks that the result is an object of finite-or-infinite numbers.
 */
export async function loadUserMetric(path: string): Promise<UserMetric> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  } catch (e) {
    throw new EvaluationError(`metric module '${path}' cannot be loaded: ${(e as Error).message}`, { cause: e });
  }
  const fn = typeof mod.default === 'function' ? mod.default : (mod.default as { default?: unknown } | undefined)?.default;
  if (typeof fn !== 'function') throw new EvaluationError(`metric module '${path}' has no default export function; write \`export default function (args) { return { name: number } }\``);
  return async (args) => {
    const r = (await (fn as UserMetric)(args)) as unknown;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new EvaluationError(`metric module '${path}' returned ${JSON.stringify(r)}; return an object of named numbers`);
    for (const [k, v] of Object.entries(r)) if (typeof v !== 'number') throw new EvaluationError(`metric module '${path}' returned ${k}: ${JSON.stringify(v)}; every value must be a number`);
    return r as Record<string, number>;
  };
}
