import { ArgumentError, type Tensor, type BackendName } from '@whittle/tensor';
import type { AttributeValue, Graph, Node } from '../ir/types.js';
import type { RuntimeValue } from './value.js';

/** What an op implementation sees besides its inputs. */
export interface OpContext {
  readonly node: Node;
  /** Opset version in force for the node's domain. */
  readonly opset: number;
  readonly backend: BackendName;
  /** Run a subgraph (If/Loop/Scan body) with extra feeds; outer-scope values stay visible. */
  runSubgraph(graph: Graph, feeds: ReadonlyMap<string, Tensor>): Promise<Tensor[]>;
  /** As {@link OpContext.runSubgraph}, for subgraphs whose values may be sequences or optionals. */
  runSubgraphValues(graph: Graph, feeds: ReadonlyMap<string, RuntimeValue>): Promise<RuntimeValue[]>;
  attr(name: string): AttributeValue | undefined;
  int(name: string, fallback: number): number;
  intOpt(name: string): number | undefined;
  float(name: string, fallback: number): number;
  floatOpt(name: string): number | undefined;
  ints(name: string): number[] | undefined;
  floats(name: string): number[] | undefined;
  string(name: string, fallback: string): string;
  graph(name: string): Graph | undefined;
  tensorAttr(name: string): Tensor | undefined;
}

/** Build the attribute accessors over a node. */
export function attributeAccessors(node: Node): Pick<OpContext, 'attr' | 'int' | 'intOpt' | 'float' | 'floatOpt' | 'ints' | 'floats' | 'string' | 'graph' | 'tensorAttr'> {
  const get = (name: string): AttributeValue | undefined => node.attributes.get(name);
  const wrong = (name: string, want: string, a: AttributeValue): never => {
    throw new ArgumentError(`node ${node.name || node.opType} (${node.opType}): attribute ${name} should be ${want}, found ${a.type}`);
  };
  return {
    attr: get,
    int(name, fallback) {
      const a = get(name);
      if (!a) return fallback;
      return a.type === 'int' ? a.value : wrong(name, 'an int', a);
    },
    intOpt(name) {
      const a = get(name);
      if (!a) return undefined;
      return a.type === 'int' ? a.value : wrong(name, 'an int', a);
    },
    float(name, fallback) {
      const a = get(name);
      if (!a) return fallback;
      return a.type === 'float' ? a.value : a.type === 'int' ? a.value : wrong(name, 'a float', a);
    },
    floatOpt(name) {
      const a = get(name);
      if (!a) return undefined;
      return a.type === 'float' ? a.value : a.type === 'int' ? a.value : wrong(name, 'a float', a);
    },
    ints(name) {
      const a = get(name);
      if (!a) return undefined;
      return a.type === 'ints' ? a.value : wrong(name, 'ints', a);
    },
    floats(name) {
      const a = get(name);
      if (!a) return undefined;
      return a.type === 'floats' ? a.value : wrong(name, 'floats', a);
    },
    string(name, fallback) {
      const a = get(name);
      if (!a) return fallback;
      return a.type === 'string' ? a.value : wrong(name, 'a string', a);
    },
    graph(name) {
      const a = get(name);
      if (!a) return undefined;
      return a.type === 'graph' ? a.value : wrong(name, 'a graph', a);
    },
    tensorAttr(name) {
      const a = get(name);
      if (!a) return undefined;
      if (a.type !== 'tensor' || !('storage' in a.value)) return wrong(name, 'a tensor of a supported dtype', a);
      return a.value as Tensor;
    },
  };
}
