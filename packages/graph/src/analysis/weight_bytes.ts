import { initializerBytes } from '../ir/dtypes.js';
import { graphScopes } from '../ir/scopes.js';
import type { Graph, Model } from '../ir/types.js';

function tensorAttributeBytes(g: Graph): number {
  let n = 0;
  for (const node of g.nodes) {
    if (node.opType !== 'Constant') continue;
    for (const [name, a] of node.attributes) {
      if (a.type === 'tensor') n += initializerBytes(a.value);
      // value_float / value_int(s) hold a float32 / int64 tensor too (the front end makes them initializers)
      else if (name === 'value_float') n += 4;
      else if (name === 'value_floats' && a.type === 'floats') n += 4 * a.value.length;
      else if (name === 'value_int') n += 8;
      else if (name === 'value_ints' && a.type === 'ints') n += 8 * a.value.length;
    }
  }
  return n;
}

/**
 * Bytes of a model's stored weights: initializers (computable and raw) and Constant-node tensors
 * of the main graph and of every subgraph — what compression shrinks.
 */
export function weightBytes(model: Model): number {
  let n = 0;
  for (const { graph } of graphScopes(model.graph)) {
    for (const t of graph.initializers.values()) n += initializerBytes(t);
    for (const t of graph.rawInitializers.values()) n += initializerBytes(t);
    n += tensorAttributeBytes(graph);
  }
  return n;
}
