/**
 * Constants a scalar integer input is compared with: a mode switch such as Silero VAD's `sr`
 * (`Equal(sr, 16000)` choosing the 16 kHz or the 8 kHz branch). Synthetic data draws such an
 * input from these values, so the data exercises the branches the model was made for instead of
 * values no caller sends.
 */
import { type Graph, type Model, type Node, isDefaultDomain, isRawTensor, subgraphsOf, tensorValues } from '@whittle/graph';

const COMPARISONS = new Set(['Equal']);
const INTEGER_TYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8']);

/** Values of a one-element constant: an initializer or a Constant node's output in `graphs` (innermost first). */
function scalarConstant(graphs: readonly Graph[], name: string): number | undefined {
  for (const g of graphs) {
    const init = g.initializers.get(name);
    const node = init ? undefined : g.nodes.find((n) => n.opType === 'Constant' && isDefaultDomain(n.domain) && n.outputs[0] === name);
    if (!init && !node) continue;
    const a = node?.attributes.get('value_int') ?? node?.attributes.get('value_float');
    if (a && (a.type === 'int' || a.type === 'float')) return a.value;
    const va = node?.attributes.get('value');
    const t = init ?? (va?.type === 'tensor' ? va.value : undefined);
    if (!t || isRawTensor(t) || t.size !== 1) return undefined;
    return tensorValues(t)[0];
  }
  return undefined;
}

/**
 * For each scalar (one-element) integer input of the main graph, the integer constants that
 * `Equal` nodes compare it with directly, in the graph or its subgraphs, in order of first use.
 * Inputs compared with nothing are left out.
 */
export function comparedConstants(model: Model): Map<string, number[]> {
  const scalars = new Set(
    model.graph.inputs
      .filter((i) => !model.graph.initializers.has(i.name) && i.type?.kind === 'tensor' && INTEGER_TYPES.has(i.type.elemType ?? '') && (i.type.shape?.every((d) => d === 1) ?? false))
      .map((i) => i.name),
  );
  const out = new Map<string, number[]>();
  if (!scalars.size) return out;
  const visit = (g: Graph, outer: readonly Graph[]): void => {
    const scope = [g, ...outer];
    const shadowed = (n: string): boolean => scope.slice(0, -1).some((s) => s.inputs.some((i) => i.name === n) || s.nodes.some((x: Node) => x.outputs.includes(n)));
    for (const n of g.nodes) {
      if (COMPARISONS.has(n.opType) && isDefaultDomain(n.domain) && n.inputs.length === 2) {
        n.inputs.forEach((x, k) => {
          if (!x || !scalars.has(x) || shadowed(x)) return;
          const v = scalarConstant(scope, n.inputs[1 - k] ?? '');
          if (v === undefined || !Number.isInteger(v)) return;
          const vs = out.get(x) ?? out.set(x, []).get(x)!;
          if (!vs.includes(v)) vs.push(v);
        });
      }
      for (const sg of subgraphsOf(n)) visit(sg, scope);
    }
  };
  visit(model.graph, []);
  return out;
}
