import { type BackendName, type Tensor, WhittleError, engine, ArgumentError } from '@whittle/tensor';
import type { Graph, Model, Node } from '../ir/types.js';
import { attributeAccessors, type OpContext } from './context.js';
import { InterpreterError, UnsupportedOpError } from './errors.js';
import { getOp, getValueOp, normalizeDomain } from './registry.js';
import { namesRead } from './outer_refs.js';
import { place, prepareInputs } from './placement.js';
import { type RuntimeSequence, type RuntimeStrings, type RuntimeValue, isOptional, isSequence, isStrings, isTensor, kindOf, tensorsOf } from './value.js';

/** Options of {@link runModel}. */
export interface RunOptions {
  /** Backend to run on (default: the current backend). */
  backend?: BackendName;
  /** Extra values to return besides the graph outputs (intermediate names). */
  fetch?: readonly string[];
  /** Tensors to use instead of initializers of the same name (trainable parameters). */
  overrides?: ReadonlyMap<string, Tensor>;
  signal?: AbortSignal;
  /**
   * Return the `fetch`ed values only: the graph outputs are not computed unless fetched, and
   * nodes that feed no fetched value are skipped (calibration reads activations before a head
   * the interpreter may not run, such as skl2onnx's ZipMap).
   */
  fetchOnly?: boolean;
}

/** Per-model cache of initializers uploaded to a non-cpu backend. */
const uploaded = new WeakMap<Tensor, Map<BackendName, Tensor>>();

async function valueOnBackend(v: RuntimeValue, backend: BackendName): Promise<RuntimeValue> {
  if (isSequence(v)) return { kind: 'sequence', items: await Promise.all(v.items.map((t) => onBackend(t, backend))) };
  if (isOptional(v)) return { kind: 'optional', value: v.value ? ((await valueOnBackend(v.value, backend)) as Tensor | RuntimeStrings | RuntimeSequence) : null };
  if (isStrings(v)) return v; // host-resident on every backend
  return onBackend(v, backend);
}

async function onBackend(t: Tensor, backend: BackendName): Promise<Tensor> {
  if (t.backend === backend) return t;
  let m = uploaded.get(t);
  if (!m) uploaded.set(t, (m = new Map()));
  let c = m.get(backend);
  // a 64-bit integer the backend cannot store stays on the host (see placement.ts)
  if (!c) m.set(backend, (c = await place(t, backend)));
  return c;
}

/**
 * Run a model with Whittle's interpreter. `feeds` maps graph input names to tensors. Returns
 * the graph outputs (and `fetch`ed values) by name. For models whose inputs or outputs are
 * sequences or optionals, use {@link runModelValues}.
 * @throws InterpreterError when an output is not a tensor.
 */
export async function runModel(model: Model, feeds: ReadonlyMap<string, Tensor> | Record<string, Tensor>, opts: RunOptions = {}): Promise<Map<string, Tensor>> {
  const out = await runModelValues(model, feeds, opts);
  const result = new Map<string, Tensor>();
  for (const [name, v] of out) {
    if (!isTensor(v)) throw new InterpreterError(`runModel: output '${name}' is a ${kindOf(v)}, not a tensor (use runModelValues)`);
    result.set(name, v);
  }
  return result;
}

/**
 * Run a model whose inputs and outputs may be sequences or optionals as well as tensors
 * (see {@link RuntimeValue}). Otherwise as {@link runModel}.
 */
export async function runModelValues(
  model: Model,
  feeds: ReadonlyMap<string, RuntimeValue> | Record<string, RuntimeValue>,
  opts: RunOptions = {},
): Promise<Map<string, RuntimeValue>> {
  const opsets = new Map<string, number>();
  for (const o of model.opsetImports) opsets.set(normalizeDomain(o.domain), o.version);
  const backend = opts.backend ?? engine().backendName;
  const feedMap = feeds instanceof Map ? feeds : new Map(Object.entries(feeds));
  for (const input of model.graph.inputs) {
    if (!feedMap.has(input.name) && !model.graph.initializers.has(input.name)) {
      throw new ArgumentError(`runModel: no value fed for graph input '${input.name}'`);
    }
  }
  const graph = opts.fetchOnly ? fetchCone(model.graph, opts.fetch ?? []) : model.graph;
  return runGraph(graph, feedMap, new Map(), { opsets, backend, fetch: opts.fetch ?? [], overrides: opts.overrides, signal: opts.signal });
}

/** The graph cut down to the nodes the `fetch`ed values depend on, with no outputs of its own. */
function fetchCone(graph: Graph, fetch: readonly string[]): Graph {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const needed = new Set<number>();
  const stack = [...fetch];
  while (stack.length) {
    const i = producer.get(stack.pop()!);
    if (i === undefined || needed.has(i)) continue;
    needed.add(i);
    stack.push(...namesRead(graph.nodes[i]!));
  }
  return { ...graph, nodes: graph.nodes.filter((_, i) => needed.has(i)), outputs: [] };
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
  feeds: ReadonlyMap<string, RuntimeValue>,
  outer: ReadonlyMap<string, RuntimeValue>,
  cfg: GraphRunConfig,
): Promise<Map<string, RuntimeValue>> {
  const values = new Map<string, RuntimeValue>(outer);
  for (const [name, t] of graph.initializers) values.set(name, await onBackend(cfg.overrides?.get(name) ?? t, cfg.backend));
  for (const [name, v] of feeds) values.set(name, await valueOnBackend(v, cfg.backend));
  // intermediates are freed after their last use unless gradients are being recorded
  const recording = engine().gradEnabled && [...values.values()].some((v) => tensorsOf(v).some((t) => t.requiresGrad));
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
        const dead = values.get(name)!;
        values.delete(name);
        for (const t of tensorsOf(dead)) if (!heldBy(values, t)) t.dispose();
      }
    }
  }
  const result = new Map<string, RuntimeValue>();
  for (const name of keep) {
    const t = values.get(name);
    if (!t) throw new InterpreterError(`graph ${graph.name || '(main)'}: output '${name}' was not produced`);
    result.set(name, t);
  }
  return result;
}

/** Whether a live value still holds `t` (itself, or inside a sequence or optional); no allocation for plain tensors. */
function heldBy(values: ReadonlyMap<string, RuntimeValue>, t: Tensor): boolean {
  for (const v of values.values()) if (v === t || (!isTensor(v) && tensorsOf(v).includes(t))) return true;
  return false;
}

/** What to do instead, for ops that models of a known exporter carry and the interpreter lacks. */
const UNSUPPORTED_HINTS: Record<string, string> = {
  'ai.onnx.ml::ZipMap': " (its output is a sequence of maps, not a tensor: convert the scikit-learn classifier with skl2onnx options={'zipmap': False} to get the probabilities as a tensor)",
};

function label(node: Node): string {
  return `${node.name || '(unnamed)'} (${node.domain ? node.domain + '.' : ''}${node.opType})`;
}

/** The node's implementation over runtime values: a value op as is, a tensor op behind a check that every input is a tensor. */
function implOf(node: Node, domain: string): (inputs: (RuntimeValue | undefined)[], ctx: OpContext) => Promise<(RuntimeValue | undefined)[]> | (RuntimeValue | undefined)[] {
  const valueImpl = getValueOp(node.opType, domain);
  if (valueImpl) return valueImpl;
  const impl = getOp(node.opType, domain);
  if (!impl) {
    throw new UnsupportedOpError(`node ${label(node)}: the interpreter has no implementation of ${domain ? domain + '.' : ''}${node.opType}${UNSUPPORTED_HINTS[`${domain}::${node.opType}`] ?? ''}`);
  }
  return async (inputs, ctx) => {
    const tensors = inputs.map((v, k) => {
      if (v === undefined || isTensor(v)) return v;
      throw new InterpreterError(`node ${label(node)}: input '${node.inputs[k]}' is a ${kindOf(v)}; ${node.opType} takes tensors`);
    });
    // host-resident inputs (64-bit integers a GPU backend cannot store): see placement.ts
    const prepared = await prepareInputs(node, tensors, ctx.backend, `node ${label(node)}`);
    const outs = await impl(prepared.inputs, prepared.backend === ctx.backend ? ctx : { ...ctx, backend: prepared.backend });
    if (outs.every((t) => t === undefined || t.backend === ctx.backend)) return outs;
    return Promise.all(outs.map((t) => (t && t.backend !== ctx.backend ? place(t, ctx.backend) : t)));
  };
}

async function runNode(node: Node, inputs: (RuntimeValue | undefined)[], scope: Map<string, RuntimeValue>, cfg: GraphRunConfig): Promise<(RuntimeValue | undefined)[]> {
  const domain = normalizeDomain(node.domain);
  const impl = implOf(node, domain);
  const ctx: OpContext = {
    node,
    opset: cfg.opsets.get(domain) ?? (domain === '' ? 21 : 1),
    backend: cfg.backend,
    runSubgraph: async (g, feeds) => {
      const out = await ctx.runSubgraphValues(g, feeds);
      return out.map((v, k) => {
        if (!isTensor(v)) throw new InterpreterError(`node ${label(node)}: subgraph output '${g.outputs[k]!.name}' is a ${kindOf(v)}; ${node.opType} takes tensors`);
        return v;
      });
    },
    runSubgraphValues: async (g, feeds) => {
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
