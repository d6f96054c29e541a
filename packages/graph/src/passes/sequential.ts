/**
 * Sequential calibration: the main graph is run segment by segment on every calibration batch at
 * once, stopping before the first reader of each requested tensor so the caller can rewrite the
 * weights that read it (quantize them, prune them) before the rest of the graph runs. Later layers
 * therefore see the activations of the already-rewritten earlier layers, as GPTQ and SparseGPT
 * prescribe, at the cost of one forward pass in total. Shared by @whittle/quantize (GPTQ) and
 * @whittle/prune (SparseGPT, sequential Wanda), which may not import each other. Segments run in
 * the injected activation runtime (onnxruntime in Node) when there is one, else in the interpreter.
 */
import { ArgumentError, type BackendName, type Tensor } from '@whittle/tensor';
import { createGraph, createModel, opsetVersion } from '../ir/graph.js';
import type { Model, Node, ValueType } from '../ir/types.js';
import { inferValueTypes } from '../analysis/shape/infer.js';
import { implicitInputs } from '../ir/uses.js';
import { runModel } from '../interpreter/run.js';
import type { Feeds, Logger } from './contract.js';
import { throwIfAborted } from './context.js';
import { type ActivationRuntime, type CalibrationRuntimeChoice, type CalibrationSource, CalibrationDataError, calibrationBatches, resolveActivationRuntime } from './activations.js';
import { runSegmentIn, segmentModel } from './sequential_segment.js';

/** Options of {@link runSequential}. */
export interface SequentialOptions {
  backend?: BackendName;
  maxBatches?: number;
  signal?: AbortSignal;
  /** Called after each stage with the fraction of stages done. */
  onStage?: (fraction: number, names: readonly string[]) => void;
  /**
   * Runtime of the forward segments (`ctx.activationRuntime`, e.g. onnxruntime in Node): much
   * faster than the interpreter on large models. A segment whose values passed on are not all
   * float32, or that the runtime cannot load (with 'auto'), runs in the interpreter.
   */
  activationRuntime?: ActivationRuntime | undefined;
  /** 'auto' (default): `activationRuntime` when given; 'interpreter' or 'onnxruntime' force one. */
  runtime?: CalibrationRuntimeChoice | undefined;
  /** Pass name for errors (default 'runSequential'). */
  pass?: string | undefined;
  /** Told when 'auto' runs a segment in the interpreter because the runtime failed to load it. */
  logger?: Logger | undefined;
}

function readsOf(n: Node): string[] {
  return [...n.inputs.filter(Boolean), ...implicitInputs(n)];
}

/**
 * Run `model`'s main graph on the calibration batches and call `visit(name, values)` with the
 * value of each tensor of `names` on every batch (in batch order), just before the first node
 * reading it runs. `visit` may replace initializers of `model.graph` (by `initializers.set`):
 * nodes that have not run yet read the new values. Tensors are visited in graph order; names no
 * node reads are reported to `visit` with the values of the graph's end state (never, if not
 * produced). `calibration` is any {@link CalibrationSource} (a `batches()` source is read once).
 * Returns how many batches were used.
 */
export async function runSequential(model: Model, names: readonly string[], calibration: CalibrationSource, visit: (name: string, values: Tensor[]) => Promise<void> | void, opts: SequentialOptions = {}): Promise<number> {
  const g = model.graph;
  const nodes = g.nodes;
  const firstRead = new Map<string, number>();
  const lastRead = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const r of readsOf(n)) {
      if (!firstRead.has(r)) firstRead.set(r, i);
      lastRead.set(r, i);
    }
  });
  const stops = new Map<number, string[]>();
  for (const name of new Set(names)) {
    const at = firstRead.get(name);
    if (at === undefined) throw new ArgumentError(`runSequential: no node of the main graph reads '${name}'`);
    const l = stops.get(at);
    if (l) l.push(name);
    else stops.set(at, [name]);
  }
  const envs: Map<string, Tensor>[] = [];
  for await (const feeds of calibrationBatches(calibration) as AsyncIterable<Feeds>) {
    if (opts.maxBatches !== undefined && envs.length >= opts.maxBatches) break;
    envs.push(new Map(feeds instanceof Map ? feeds : Object.entries(feeds)));
  }
  if (!envs.length) throw new CalibrationDataError(opts.pass ?? 'runSequential', `${opts.pass ?? 'runSequential'}: the calibration data is empty`);
  const fed = new Set(envs[0]!.keys());
  const pass = opts.pass ?? 'runSequential';
  const choice = opts.runtime ?? 'auto';
  const runtime = resolveActivationRuntime(pass, choice, opts.activationRuntime);
  let types: ReadonlyMap<string, ValueType> | undefined;
  const typeOf = (name: string): ValueType | undefined => (types ??= inferValueTypes(g, { opset: opsetVersion(model) ?? 21 }).types).get(name);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const order = [...stops.keys()].sort((a, b) => a - b);
  let start = 0;
  for (const [k, stop] of order.entries()) {
    throwIfAborted(opts.signal, 'runSequential');
    if (stop > start) {
      const slice = nodes.slice(start, stop);
      // values produced here that a later node (or a later stop, or the caller) still needs
      const keep = new Set<string>();
      for (const n of slice) for (const o of n.outputs) if (o && ((lastRead.get(o) ?? -1) >= stop || graphOutputs.has(o))) keep.add(o);
      const inRuntime = runtime !== undefined && (await runSegmentIn(runtime, segmentModel(model, slice, keep, envs[0]!, typeOf), [...keep], envs, { backend: opts.backend ?? 'cpu', choice, pass, signal: opts.signal, logger: opts.logger }));
      const part = inRuntime ? undefined : createModel(createGraph({ name: g.name, nodes: slice, initializers: g.initializers, rawInitializers: g.rawInitializers }), { opsetImports: model.opsetImports, irVersion: model.irVersion });
      for (const env of envs) {
        if (part) {
          const out = await runModel(part, env, { backend: opts.backend ?? 'cpu', fetch: [...keep], ...(opts.signal ? { signal: opts.signal } : {}) });
          for (const [name, t] of out) env.set(name, t);
        }
        // forget values no node from here on reads (graph inputs stay: the caller owns them)
        for (const name of [...env.keys()]) {
          if (fed.has(name) || graphOutputs.has(name)) continue;
          if ((lastRead.get(name) ?? -1) < stop) {
            env.get(name)!.dispose();
            env.delete(name);
          }
        }
      }
      start = stop;
    }
    const here = stops.get(stop)!;
    for (const name of here) {
      const values = envs.map((e) => e.get(name));
      if (values.some((v) => !v)) throw new ArgumentError(`runSequential: '${name}' is not computed by the main graph before its first reader`);
      await visit(name, values as Tensor[]);
    }
    opts.onStage?.((k + 1) / order.length, here);
  }
  for (const env of envs) for (const [name, t] of env) if (!fed.has(name)) t.dispose();
  return envs.length;
}
