import { type BackendName, type Tensor, ArgumentError, engine, toBackend } from '@whittle/tensor';
import type { Graph, Model, Node, RawTensor } from '../ir/types.js';
import { isRawTensor, subgraphsOf } from '../ir/attributes.js';
import { runModel } from '../interpreter/run.js';

/** Decides which float32 initializers train. Default: {@link isWeightInput}. */
export type ParameterFilter = (name: string, value: Tensor, consumers: readonly Node[]) => boolean;

/** Maps a parameter to the value the graph computes with (see {@link GraphModule.setWeightTransform}). */
export type WeightTransform = (name: string, param: Tensor) => Tensor;

/** Options of {@link GraphModule.create}. */
export interface GraphModuleOptions {
  /** Backend the parameters live on and the forward runs on (default: the current backend). */
  backend?: BackendName;
  /** Which float32 initializers are trainable parameters. */
  trainable?: ParameterFilter;
}

/** Input slots that hold learnable weights, by op: `[op, input indices]`. */
const WEIGHT_SLOTS: Record<string, readonly number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [0, 1, 2],
  MatMul: [0, 1],
  BatchNormalization: [1, 2],
  LayerNormalization: [1, 2],
  SimplifiedLayerNormalization: [1],
  RMSNormalization: [1],
  InstanceNormalization: [1, 2],
  Add: [0, 1],
  Sub: [0, 1],
  Mul: [0, 1],
  PRelu: [1],
  Gather: [0],
  LSTM: [1, 2, 3],
  GRU: [1, 2, 3],
  RNN: [1, 2, 3],
};

/** The same for onnxruntime's com.microsoft ops that hold weights (fused attention, skip normalizations, fused matmul and gemm, the biases of fused GELUs). */
const MS_WEIGHT_SLOTS: Record<string, readonly number[]> = {
  Attention: [1, 2],
  MultiHeadAttention: [3],
  SkipLayerNormalization: [2, 3, 4],
  SkipSimplifiedLayerNormalization: [2, 3],
  EmbedLayerNormalization: [2, 3, 4, 5, 6],
  FusedMatMul: [0, 1],
  FusedGemm: [0, 1, 2],
  BiasGelu: [1],
  FastGelu: [1],
};

/**
 * The default parameter filter: a float32 initializer is trainable when some consumer reads it
 * in a weight slot (Conv/Gemm/MatMul weights and biases, normalization scale/bias, Add/Mul
 * operands, embedding tables, recurrent weights, the weights of onnxruntime's fused attention and
 * skip normalizations). Shape tensors, Resize scales, Clip bounds and
 * quantization scales stay fixed.
 */
export function isWeightInput(name: string, value: Tensor, consumers: readonly Node[]): boolean {
  if (value.dtype !== 'float32') return false;
  return consumers.some((n) => {
    const slots = n.domain === '' || n.domain === 'ai.onnx' ? WEIGHT_SLOTS[n.opType] : n.domain === 'com.microsoft' ? MS_WEIGHT_SLOTS[n.opType] : undefined;
    return (slots ?? []).some((i) => n.inputs[i] === name);
  });
}

/**
 * Why `model` has nothing a {@link GraphModule} trains, or '' when it has: no float32 weight in a
 * trainable slot of the main graph, naming the float weights inside If/Loop/Scan subgraphs
 * (a merged decoder's branches), which training does not reach.
 */
export function nothingToTrainReason(model: Model): string {
  const consumers = new Map<string, Node[]>();
  for (const n of model.graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  for (const [name, t] of model.graph.initializers) if (isWeightInput(name, t, consumers.get(name) ?? [])) return '';
  // float weights held by a subgraph, or held by the main graph and read only inside subgraphs
  let inSubgraphs = 0;
  const readInside = new Set<string>();
  const isFloatWeight = (t: Tensor | RawTensor): boolean => !isRawTensor(t) && t.dtype === 'float32' && t.size > 1;
  const visit = (g: Graph, inside: boolean): void => {
    for (const n of g.nodes) {
      if (inside) for (const i of n.inputs) if (i) readInside.add(i);
      for (const sg of subgraphsOf(n)) {
        for (const t of sg.initializers.values()) if (isFloatWeight(t)) inSubgraphs++;
        visit(sg, true);
      }
    }
  };
  visit(model.graph, false);
  for (const [name, t] of model.graph.initializers) if (isFloatWeight(t) && readInside.has(name) && !consumers.has(name)) inSubgraphs++;
  const where = inSubgraphs
    ? `; its ${inSubgraphs} float32 weight(s) are inside If/Loop/Scan subgraphs, which training does not reach (quantize-weights, quantize-dynamic and prune-unstructured do)`
    : '';
  return `the model has no float32 weights in trainable slots of the main graph (Conv/Gemm/MatMul/normalization/embedding initializers)${where}`;
}

/**
 * An ONNX graph as a trainable module: its float initializers become parameters (tensors that
 * require grad) on the chosen backend, `forward` runs the interpreter with autograd, and
 * `toModel` writes the trained values back into a copy of the model.
 */
export class GraphModule {
  private weightTransform: WeightTransform | undefined;
  private constructor(
    readonly model: Model,
    readonly backend: BackendName,
    /** Trainable parameters by initializer name. */
    readonly parameters: Map<string, Tensor>,
    /** Other initializers on the backend (not trained). */
    readonly buffers: Map<string, Tensor>,
  ) {}

  static async create(model: Model, opts: GraphModuleOptions = {}): Promise<GraphModule> {
    const backend = opts.backend ?? engine().backendName;
    const filter = opts.trainable ?? isWeightInput;
    const consumers = new Map<string, Node[]>();
    for (const n of model.graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    const params = new Map<string, Tensor>();
    const buffers = new Map<string, Tensor>();
    for (const [name, t] of model.graph.initializers) {
      const trainable = t.dtype === 'float32' && filter(name, t, consumers.get(name) ?? []);
      // parameters are private copies so training never mutates the caller's model
      const copy = trainable || t.backend !== backend ? await toBackend(t, backend) : t;
      if (trainable) {
        const own = copy === t ? await copyTensor(t, backend) : copy;
        params.set(name, own.requireGrad());
      } else buffers.set(name, copy);
    }
    return new GraphModule(model, backend, params, buffers);
  }

  /** Parameters in graph initializer order. */
  parameterList(): Tensor[] {
    return [...this.parameters.values()];
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    let n = 0;
    for (const p of this.parameters.values()) n += p.size;
    return n;
  }

  /**
   * Compute the graph with transformed parameter values (e.g. fake quantization with a
   * straight-through estimator for QAT): `fn(name, param)` returns the tensor the graph sees;
   * gradients flow through whatever ops it records. `undefined` removes the transform.
   */
  setWeightTransform(fn: WeightTransform | undefined): void {
    this.weightTransform = fn;
  }

  private overrides(): Map<string, Tensor> {
    const o = new Map<string, Tensor>([...this.buffers, ...this.parameters]);
    if (this.weightTransform) for (const [name, p] of this.parameters) o.set(name, this.weightTransform(name, p));
    return o;
  }

  /** Run the graph; records gradients to the parameters unless inside noGrad(). */
  async forward(feeds: Record<string, Tensor> | ReadonlyMap<string, Tensor>, fetch: readonly string[] = []): Promise<Map<string, Tensor>> {
    return runModel(this.model, feeds, { backend: this.backend, overrides: this.overrides(), fetch });
  }

  /** Forward without recording gradients. */
  async predict(feeds: Record<string, Tensor> | ReadonlyMap<string, Tensor>): Promise<Map<string, Tensor>> {
    return engine().noGradAsync(() => runModel(this.model, feeds, { backend: this.backend, overrides: this.overrides() }));
  }

  /** A copy of the model whose initializers hold the current parameter values (cpu tensors). */
  async toModel(): Promise<Model> {
    const initializers = new Map(this.model.graph.initializers);
    for (const [name, p] of this.parameters) initializers.set(name, await toBackend(p.detach(), 'cpu').then((t) => (t === p ? copyTensor(p, 'cpu') : t)));
    return { ...this.model, graph: { ...this.model.graph, initializers } };
  }

  /** Replace a parameter's value (same shape) in place, e.g. to apply a pruning mask. */
  setParameter(name: string, value: Tensor): void {
    const p = this.parameters.get(name);
    if (!p) throw new ArgumentError(`GraphModule.setParameter: no trainable parameter named '${name}'`);
    engine().assign(p, value);
  }

  dispose(): void {
    for (const p of this.parameters.values()) p.dispose();
  }
}

async function copyTensor(t: Tensor, backend: BackendName): Promise<Tensor> {
  return engine().fromStorage(t.dtype, t.shape, await t.data(), backend);
}

