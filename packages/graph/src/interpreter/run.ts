import { type BackendName, type Tensor, WhittleError, engine, toBackend, ArgumentError } from '@whittle/tensor';
import type { Graph, Model, Node } from '../ir/types.js';
import { attributeAccessors, type OpContext } from './context.js';
import { InterpreterError, UnsupportedOpError } from './errors.js';
import { getOp, normalizeDomain } from './registry.js';
import { namesRead } from './outer_refs.js';

/** Options of {@link runModel}. */
export interface RunOptions {
  /** Backend to run on (default: the current backend). */
  backend?: BackendName;
  /** Extra values to return besides the graph outputs (intermediate names). */
  fetch?: readonly string[];
  /** Tensors to use instead of initializers of the same name (trainable parameters). */
  overrides?: ReadonlyMap<string, Tensor>;
  signal?: AbortSignal;
}

/** Per-model cache of initializers uploaded to a non-cpu backend. */
const uploaded = new WeakMap<Tensor, Map<BackendName, Tensor>>();

async function onBackend(t: Tensor, backend: BackendName): Promise<Tensor> {
  if (t.backend === backend) return t;
  let m = uploaded.get(t);
  if (!m) uploaded.set(t, (m = new Map()));
  let c = m.get(backend);
  if (!c) m.set(backend, (c = await toBackend(t, backend)));
  return c;
}

/**
 * Run a model with Whittle's interpreter. `feeds` maps graph input names to tensors. Returns
 * the graph outputs (and `fetch`ed values) by name.
 */
export async function runModel(model: Model, feeds: ReadonlyMap<string, Tensor> | Record<string, Tensor>, opts: RunOptions = {}): Promise<Map<string, Tensor>> {
  const opsets = new Map<string, number>();
  for (const o of model.opsetImports) opsets.set(normalizeDomain(o.domain), o.version);
  const backend = opts.backend ?? engine().backendName;
  const feedMap = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
  for (const input of model.graph.inputs) {
    if (!feedMap.has(input.name) && !model.graph.initializers.has(input.name)) {
      throw new ArgumentError(`runModel: no value fed for graph input '${input.name}'`);
    }
  }
  return runGraph(model.graph, feedMap, new Map(), { opsets, backend, fetch: opts.fetch ?? [], overrides: opts.overrides, signal: opts.signal });
}

interface GraphRunConfig {
  opsets: Map<string, number>;
  backend: BackendName;
  fetch: readonly string[];
  overrides: ReadonlyMap<string, Tensor> | undefined;
  signal: AbortSignal | undefined;
}

/** Run one graph (top level or subgraph) with the given outer scope. */
export async function runGraph(
  graph: Graph,
  feeds: ReadonlyMap<string, Tensor>,
  outer: ReadonlyMap<string, Tensor>,
  cfg: GraphRunConfig,
): Promise<Map<string, Tensor>> {
  const values = new Map<string, Tensor>(outer);
  for (const [name, t] of graph.initializers) values.set(name, await onBackend(cfg.overrides?.get(name) ?? t, cfg.backend));
  for (const [name, t] of feeds) values.set(name, await onBackend(t, cfg.backend));
  // intermediates are freed after their last use unless gradients are being recorded
  const recording = engine().gradEnabled && [...values.values()].some((t) => t.requiresGrad);
  // last use of each value, to free intermediates early (not while recording gradients)
  const keep = new Set<string>([...graph.outputs.map((o) => o.name), ...cfg.fetch]);
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const name of namesRead(n)) lastUse.set(name, i);
  });
  const produced = new Set<string>();
  for (let i = 0; i < graph.nodes.length; i++) {
    if (cfg.signal?.aborted) throw new InterpreterError('run aborted', { cause: cfg.signal.reason });
    const node = graph.nodes[i]!;
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = values.get(name);
      if (!v) {
        const raw = graph.rawInitializers.get(name);
        throw new InterpreterError(
          raw
            ? `node ${label(node)}: input '${name}' has element type ${raw.dataType}, which the interpreter does not compute with`
            : `node ${label(node)}: input '${name}' is not defined before the node`,
        );
      }
      return v;
    });
    const outs = await runNode(node, inputs, values, cfg);
    node.outputs.forEach((name, k) => {
      if (!name) return;
      const t = outs[k];
      if (t) {
        values.set(name, t);
        produced.add(name);
      }
    });
    if (recording) continue;
    for (const name of new Set(namesRead(node))) {
      if (lastUse.get(name) === i && produced.has(name) && !keep.has(name)) {
        const t = values.get(name)!;
        values.delete(name);
        if (![...values.values()].includes(t)) t.dispose();
      }
    }
  }
  const result = new Map<string, Tensor>();
  for (const name of keep) {
    const t = values.get(name);
    if (!t) throw new InterpreterError(`graph ${graph.name || '(main)'}: output '${name}' was not produced`);
    result.set(name, t);
  }
  return result;
}

function label(node: Node): string {
  return `${node.name || '(unnamed)'} (${node.domain ? node.domain + '.' : ''}${node.opType})`;
}

async function runNode(node: Node, inputs: (Tensor | undefined)[], scope: Map<string, Tensor>, cfg: GraphRunConfig): Promise<(Tensor | undefined)[]> {
  const domain = normalizeDomain(node.domain);
  const impl = getOp(node.opType, domain);
  if (!impl) {
    throw new UnsupportedOpError(`node ${label(node)}: the interpreter has no implementation of ${domain ? domain + '.' : ''}${node.opType}`);
  }
  const ctx: OpContext = {
    node,
    opset: cfg.opsets.get(domain) ?? (domain === '' ? 21 : 1),
    backend: cfg.backend,
    runSubgraph: async (g, feeds) => {
      const out = await runGraph(g, feeds, scope, { ...cfg, fetch: [] });
      return g.outputs.map((o) => out.get(o.name)!);
    },
    ...attributeAccessors(node),
  };
  try {
    return await impl(inputs, ctx);
  } catch (e) {
    if (e instanceof UnsupportedOpError || e instanceof InterpreterError) throw e;
    if (e instanceof WhittleError) {
      const wrapped = new InterpreterError(`node ${label(node)}: ${e.message}`, { cause: e });
      throw wrapped;
    }
    throw new InterpreterError(`node ${label(node)} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
