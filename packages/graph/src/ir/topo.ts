import { GraphCycleError } from '../errors.js';
import type { Graph, Node } from './types.js';
import { allInputs } from './uses.js';

class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Nodes of `g` in a topological order. Stable: among ready nodes the one earliest in the current
 * list goes first, so an already sorted graph keeps its order. Dependencies include outer-scope
 * values read inside subgraphs. Throws {@link GraphCycleError} naming nodes on a cycle.
 */
export function topologicalOrder(g: Graph): Node[] {
  const nodes = g.nodes;
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const preds: number[][] = nodes.map(() => []);
  const succs: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const seen = new Set<number>();
    for (const name of allInputs(n)) {
      const p = producer.get(name);
      if (p !== undefined && !seen.has(p)) {
        seen.add(p);
        preds[i]!.push(p);
        succs[p]!.push(i);
      }
    }
  });
  const indeg = preds.map((p) => p.length);
  const heap = new MinHeap();
  indeg.forEach((d, i) => d === 0 && heap.push(i));
  const order: Node[] = [];
  while (heap.size) {
    const i = heap.pop();
    order.push(nodes[i]!);
    for (const s of succs[i]!) if (--indeg[s]! === 0) heap.push(s);
  }
  if (order.length !== nodes.length) {
    // Walk predecessors among unfinished nodes until one repeats: that walk closes a cycle.
    let i = indeg.findIndex((d) => d > 0);
    const pos = new Map<number, number>();
    const path: number[] = [];
    while (!pos.has(i)) {
      pos.set(i, path.length);
      path.push(i);
      i = preds[i]!.find((p) => indeg[p]! > 0)!;
    }
    const cycle = path.slice(pos.get(i)!).reverse();
    throw new GraphCycleError(cycle.map((k) => nodes[k]!.name || `#${k} ${nodes[k]!.opType}`), g.name);
  }
  return order;
}

/** Sort `g.nodes` in place topologically (see {@link topologicalOrder}); returns `g`. */
export function sortTopologically(g: Graph): Graph {
  g.nodes = topologicalOrder(g);
  return g;
}
