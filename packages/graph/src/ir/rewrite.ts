import { GraphRewriteError } from '../errors.js';
import { subgraphsOf } from './attributes.js';
import { nodeLabel } from './graph.js';
import type { Graph, Node } from './types.js';
import { buildUseIndex, definedNames } from './uses.js';

/** Where {@link insertNodes} puts new nodes. */
export type InsertPosition = { before: Node } | { after: Node } | 'start' | 'end';

function indexOfNode(g: Graph, n: Node, what: string): number {
  const i = g.nodes.indexOf(n);
  if (i < 0) throw new GraphRewriteError(`${what}: node '${n.name}' (${n.opType}) is not in graph '${g.name}'`);
  return i;
}

function checkFreshOutputs(g: Graph, nodes: Node[], ignore: Set<string>, what: string): void {
  const defined = definedNames(g);
  const seen = new Set<string>();
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      if ((defined.has(o) && !ignore.has(o)) || seen.has(o)) {
        throw new GraphRewriteError(
          `${what}: output '${o}' of node '${n.name}' (${n.opType}) is already defined in graph '${g.name}' (SSA); pick a fresh name with NameGenerator`,
        );
      }
      seen.add(o);
    }
  }
}

/** Insert `nodes` (in order) before/after a node, or at the start/end of the graph. */
export function insertNodes(g: Graph, nodes: Node[], at: InsertPosition): void {
  checkFreshOutputs(g, nodes, new Set(), 'insertNodes');
  let i: number;
  if (at === 'start') i = 0;
  else if (at === 'end') i = g.nodes.length;
  else if ('before' in at) i = indexOfNode(g, at.before, 'insertNodes');
  else i = indexOfNode(g, at.after, 'insertNodes') + 1;
  g.nodes.splice(i, 0, ...nodes);
}

/** Insert one node (see {@link insertNodes}). */
export function insertNode(g: Graph, node: Node, at: InsertPosition): void {
  insertNodes(g, [node], at);
}

function renameInputs(g: Graph, from: string, to: string, except: Set<Node>): void {
  for (const n of g.nodes) {
    if (except.has(n)) continue;
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    for (const sg of subgraphsOf(n)) renameOuterUses(sg, from, to);
  }
}

function renameOuterUses(sg: Graph, from: string, to: string): void {
  if (definedNames(sg).has(from)) return; // shadowed: the subgraph's own value
  renameInputs(sg, from, to, new Set());
  for (const o of sg.outputs) if (o.name === from) o.name = to;
}

/**
 * Make every consumer of value `from` read `to` instead (subgraph outer references included).
 * Graph outputs are renamed too when `graphOutputs` is true (default false: graph output names
 * are the model's interface). Nodes in `except` keep reading `from`.
 */
export function replaceAllUses(g: Graph, from: string, to: string, opts: { except?: Node[]; graphOutputs?: boolean } = {}): void {
  renameInputs(g, from, to, new Set(opts.except ?? []));
  if (opts.graphOutputs) for (const o of g.outputs) if (o.name === from) o.name = to;
}

/**
 * Rename a value everywhere in `g`: its producer (or graph input / initializer), consumers,
 * subgraph outer references, graph outputs and value_info. Throws when `to` is already used.
 */
export function renameValue(g: Graph, from: string, to: string): void {
  if (from === to) return;
  const idx = buildUseIndex(g);
  if (definedNames(g).has(to) || idx.consumers.has(to)) {
    throw new GraphRewriteError(`renameValue: '${to}' is already used in graph '${g.name}'`);
  }
  for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === from ? to : o));
  replaceAllUses(g, from, to, { graphOutputs: true });
  for (const v of g.inputs) if (v.name === from) v.name = to;
  const t = g.initializers.get(from);
  if (t) {
    g.initializers.delete(from);
    g.initializers.set(to, t);
  }
  const r = g.rawInitializers.get(from);
  if (r) {
    g.rawInitializers.delete(from);
    g.rawInitializers.set(to, r);
  }
  const vi = g.valueInfo.get(from);
  if (vi) {
    g.valueInfo.delete(from);
    g.valueInfo.set(to, { ...vi, name: to });
  }
}

/**
 * Replace `old` by `replacement` node(s) at the same position. Every output of `old` that is
 * still used must be produced by the replacement; new outputs must be fresh names.
 */
export function replaceNode(g: Graph, old: Node, replacement: Node | Node[]): void {
  const i = indexOfNode(g, old, 'replaceNode');
  const reps = Array.isArray(replacement) ? replacement : [replacement];
  const idx = buildUseIndex(g);
  const produced = new Set(reps.flatMap((n) => n.outputs));
  for (const o of old.outputs) {
    if (o && (idx.consumers.has(o) || idx.graphOutputs.has(o)) && !produced.has(o)) {
      throw new GraphRewriteError(
        `replaceNode: output '${o}' of ${nodeLabel(g, old)} is still used but the replacement does not produce it`,
      );
    }
  }
  checkFreshOutputs(g, reps, new Set(old.outputs), 'replaceNode');
  g.nodes.splice(i, 1, ...reps);
  for (const o of old.outputs) if (o && !produced.has(o)) g.valueInfo.delete(o);
}

/**
 * Remove `node`. Consumers of its outputs are rewired to the given replacement value(s): a string
 * replaces the first output, a record maps output → replacement. When a removed output is a graph
 * output, the replacement value is renamed to it (so graph output names stay stable); that needs
 * the replacement to be produced by a node and not be a graph input, initializer or graph output.
 */
export function removeNode(g: Graph, node: Node, rewire?: string | Record<string, string>): void {
  const i = indexOfNode(g, node, 'removeNode');
  const idx = buildUseIndex(g);
  const map: Record<string, string> =
    typeof rewire === 'string' ? { [node.outputs[0] ?? '']: rewire } : { ...(rewire ?? {}) };
  const renames: [string, string][] = [];
  for (const o of node.outputs) {
    if (!o) continue;
    const used = (idx.consumers.get(o) ?? []).some((u) => u.node !== node);
    const isOut = idx.graphOutputs.has(o);
    if (!used && !isOut) continue;
    const target = map[o];
    if (!target) {
      throw new GraphRewriteError(
        `removeNode: output '${o}' of ${nodeLabel(g, node)} is still ${isOut ? 'a graph output' : 'consumed'}; pass a replacement value`,
      );
    }
    if (node.outputs.includes(target)) {
      throw new GraphRewriteError(`removeNode: replacement '${target}' is an output of the removed node itself`);
    }
    if (isOut) {
      const p = idx.producers.get(target);
      const fixed = g.inputs.some((v) => v.name === target) || idx.graphOutputs.has(target) || !p;
      if (fixed) {
        throw new GraphRewriteError(
          `removeNode: graph output '${o}' would need to be renamed to '${target}', which is a graph input, initializer or another graph output; keep an Identity node instead`,
        );
      }
      renames.push([target, o]);
    }
  }
  g.nodes.splice(i, 1);
  for (const o of node.outputs) {
    const target = map[o];
    if (!o || !target) continue;
    replaceAllUses(g, o, target);
    if (!idx.graphOutputs.has(o)) g.valueInfo.delete(o);
  }
  for (const [target, out] of renames) {
    const keep = g.valueInfo.get(out);
    g.valueInfo.delete(target);
    renameValue(g, target, out);
    if (keep) g.valueInfo.set(out, keep);
  }
}
