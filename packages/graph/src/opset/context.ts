import type { Tensor } from '@whittle/tensor';
import { inferValueTypes } from '../analysis/shape/infer.js';
import { isRawTensor } from '../ir/attributes.js';
import { tensorValues } from '../ir/dtypes.js';
import { fromValues } from '../fold/layout.js';
import type { NameGenerator } from '../ir/names.js';
import type { AttributeValue, Graph, Node, RawTensor, ValueType } from '../ir/types.js';

/**
 * What a conversion step sees: the graph being converted, fresh names, value types (inferred
 * once per graph at the source opset), constant lookup, and where to put new nodes and weights.
 */
export class ConversionContext {
  /** Nodes to insert before / after the node being converted (reset per node by the driver). */
  before: Node[] = [];
  after: Node[] = [];
  /** Human descriptions of the edits made to the current node. */
  notes: string[] = [];
  private readonly types: Map<string, ValueType>;
  private constants: Map<string, Tensor | RawTensor> | undefined;

  constructor(
    readonly graph: Graph,
    readonly path: string,
    readonly from: number,
    readonly target: number,
    readonly names: NameGenerator,
    /** Nodes created from Upsample (their nearest rounding is floor: scales are >= 1). */
    readonly fromUpsample: WeakSet<Node>,
  ) {
    // Inferred before any node is rewritten, so every rule reads the graph at the source opset.
    let types = new Map<string, ValueType>();
    try {
      types = inferValueTypes(graph, { opset: from }).types;
    } catch {
      // A graph shape inference cannot read: every type is unknown and rules take their general path.
    }
    this.types = types;
  }

  /** Type of a value of this graph, when known (undefined for outer-scope values in subgraphs). */
  type(name: string): ValueType | undefined {
    return this.types.get(name);
  }

  /** Rank of a tensor value when its shape is known. */
  rank(name: string): number | undefined {
    const t = this.type(name);
    return t?.kind === 'tensor' && t.shape ? t.shape.length : undefined;
  }

  /** Values of an initializer or Constant-node output of this graph (computable tensors only). */
  constValues(name: string): number[] | undefined {
    if (!this.constants) {
      this.constants = new Map<string, Tensor | RawTensor>(this.graph.initializers);
      for (const n of this.graph.nodes) {
        const v = n.attributes.get('value');
        if (n.opType === 'Constant' && n.outputs[0] && v?.type === 'tensor') this.constants.set(n.outputs[0], v.value);
      }
    }
    const t = this.constants.get(name);
    return t && !isRawTensor(t) ? Array.from(tensorValues(t)) : undefined;
  }

  /** Add an initializer to this graph under a fresh name derived from `base`; returns the name. */
  initializer(base: string, t: Tensor | RawTensor): string {
    const name = this.names.value(base);
    if (isRawTensor(t)) this.graph.rawInitializers.set(name, t);
    else this.graph.initializers.set(name, t);
    return name;
  }

  /** A 1-D int64 initializer. */
  int64s(base: string, values: readonly number[]): string {
    return this.initializer(base, fromValues(values, [values.length], 'int64'));
  }

  /**
   * A scalar of the element type of value `like` (float32, float16 or float64 when known).
   * Unknown types use a float32 scalar cast with CastLike (opset 15+); returns undefined when
   * neither is possible.
   */
  scalarLike(base: string, value: number, like: string): string | undefined {
    const t = this.type(like);
    const elem = t?.kind === 'tensor' ? t.elemType : undefined;
    if (elem === 'float32' || elem === 'float16') return this.initializer(base, fromValues([value], [], elem));
    if (elem === 'float64') {
      return this.initializer(base, { dataType: 'float64', dims: [], rawData: new Uint8Array(Float64Array.of(value).buffer) });
    }
    if (elem !== undefined || this.target < 15) return undefined;
    const f = this.initializer(`${base}_f32`, fromValues([value], [], 'float32'));
    const out = this.names.value(base);
    this.before.push(this.node('CastLike', [f, like], [out], {}, base));
    return out;
  }

  /** A new default-domain node with a fresh node name. */
  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttributeValue> = {}, base = opType): Node {
    return { name: this.names.node(base), opType, domain: '', inputs, outputs, attributes: new Map(Object.entries(attrs)) };
  }

  /** Move an `ints` attribute to a new int64 input at `index` (padding skipped inputs with ''). */
  intsAttrToInput(node: Node, attrName: string, index: number): boolean {
    const a = node.attributes.get(attrName);
    if (a?.type !== 'ints') return false;
    node.attributes.delete(attrName);
    this.setInput(node, index, this.int64s(`${node.name || node.opType}_${attrName}`, a.value));
    return true;
  }

  /** Set input `index` of a node, padding missing optional inputs with ''. */
  setInput(node: Node, index: number, name: string): void {
    while (node.inputs.length < index) node.inputs.push('');
    node.inputs[index] = name;
  }

  /** Record what was done to the current node. */
  note(text: string): void {
    this.notes.push(text);
  }
}
