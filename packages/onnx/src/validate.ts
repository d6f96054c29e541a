/** Structural checks of a Graph: every consumed name is defined, single producers, no cycles. */
import type { Graph, Node } from '@whittle/graph';
import { GraphValidationError } from './errors.js';
import { sparseInitializerNames } from './graph_read.js';

function subgraphs(n: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of n.attributes.values()) {
    if (a.type === 'graph') out.push(a.value);
    else if (a.type === 'graphs') out.push(...a.value);
  }
  return out;
}

function label(n: Node, i: number): string {
  return `node ${n.name ? `'${n.name}'` : `#${i}`} (${n.opType})`;
}

/** Names defined inside a graph itself (inputs, initializers, node outputs). */
function localNames(g: Graph): Set<string> {
  const s = new Set<string>();
  for (const v of g.inputs) s.add(v.name);
  for (const k of g.initializers.keys()) s.add(k);
  for (const k of g.rawInitializers.keys()) s.add(k);
  for (const k of sparseInitializerNames(g)) s.add(k);
  for (const n of g.nodes) for (const o of n.outputs) if (o) s.add(o);
  return s;
}

/** Names a subgraph reads from enclosing scopes. */
function freeNames(g: Graph): Set<string> {
  const local = localNames(g);
  const free = new Set<string>();
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i && !local.has(i)) free.add(i);
    for (const sg of subgraphs(n)) for (const f of freeNames(sg)) if (!local.has(f)) free.add(f);
  }
  for (const o of g.outputs) if (!local.has(o.name)) free.add(o.name);
  return free;
}

/**
 * Validate `g` (and its subgraphs, with names of enclosing graphs visible as outer scope).
 * Throws {@link GraphValidationError} naming the node and value.
 */
export function validateGraph(g: Graph, outer: ReadonlySet<string> = new Set(), where = 'graph'): void {
  const at = `${where}${g.name ? ` '${g.name}'` : ''}`;
  const producer = new Map<string, number>();
  const declared = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.rawInitializers.keys(), ...sparseInitializerNames(g)]);
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (!o) continue;
      const prev = producer.get(o);
      if (prev !== undefined) {
        throw new GraphValidationError(`${at}: value '${o}' is produced by ${label(g.nodes[prev]!, prev)} and again by ${label(n, i)}; every value must have one producer`);
      }
      if (declared.has(o)) {
        throw new GraphValidationError(`${at}: ${label(n, i)} outputs '${o}', which is already a graph input or initializer; rename the output`);
      }
      producer.set(o, i);
    }
  });
  const visible = new Set<string>([...outer, ...declared, ...producer.keys()]);
  const deps: number[][] = g.nodes.map(() => []);
  g.nodes.forEach((n, i) => {
    const consumed = new Set<string>();
    for (const x of n.inputs) if (x) consumed.add(x);
    for (const sg of subgraphs(n)) for (const f of freeNames(sg)) consumed.add(f);
    for (const x of consumed) {
      if (!visible.has(x)) {
        throw new GraphValidationError(
          `${at}: ${label(n, i)} reads '${x}', which is never defined (not a graph input, initializer, ` +
            `output of any node${outer.size ? ', or outer-scope value' : ''}); fix the producer or the input name`,
        );
      }
      const p = producer.get(x);
      if (p !== undefined) deps[i]!.push(p);
    }
    for (const sg of subgraphs(n)) validateGraph(sg, visible, `${at} > ${label(n, i)} subgraph`);
  });
  for (const o of g.outputs) {
    if (!visible.has(o.name)) throw new GraphValidationError(`${at}: graph output '${o.name}' is never defined; produce it or remove it from the outputs`);
  }
  // Kahn's algorithm on producer → consumer edges.
  const indeg = deps.map((d) => d.length);
  const users: number[][] = g.nodes.map(() => []);
  deps.forEach((d, i) => d.forEach((p) => users[p]!.push(i)));
  const queue: number[] = [];
  indeg.forEach((d, i) => d === 0 && queue.push(i));
  let seen = 0;
  while (queue.length) {
    const i = queue.pop()!;
    seen++;
    for (const u of users[i]!) if (--indeg[u]! === 0) queue.push(u);
  }
  if (seen !== g.nodes.length) {
    const stuck = g.nodes.map((n, i) => [n, i] as const).filter(([, i]) => indeg[i]! > 0).slice(0, 5);
    throw new GraphValidationError(
      `${at}: the graph has a cycle through ${stuck.map(([n, i]) => label(n, i)).join(', ')}; a value cannot depend on itself`,
    );
  }
}
