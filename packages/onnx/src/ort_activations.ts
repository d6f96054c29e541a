/**
 * An {@link ActivationRuntime} on onnxruntime (node or web): the model is written with the wanted
 * intermediate values added as graph outputs, or reduced to their ranges in the graph (as
 * onnxruntime's own min/max calibrator does), and run in one session. The onnxruntime module is passed in, so this file has no dependency on it and stays
 * browser-safe.
 */
import { type ActivationOpenOptions, type ActivationRange, type ActivationRuntime, type ActivationValue, type Feeds, type Model, type Node, type ValueInfo, type ValueType, NameGenerator, createNode, inferValueTypes, opsetVersion } from '@whittle/graph';
import { ArgumentError, type Tensor, float16ToFloat32Array, tensor } from '@whittle/tensor';
import { writeModel } from './model.js';

/** The part of an onnxruntime tensor this runtime reads. */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The part of the onnxruntime module (the namespace of onnxruntime-node or onnxruntime-web) this runtime uses. */
export interface OrtModuleLike {
  Tensor: new (type: string, data: ArrayBufferView, dims: readonly number[]) => OrtTensorLike;
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<{
      run(feeds: Record<string, OrtTensorLike>, fetches?: readonly string[]): Promise<Record<string, OrtTensorLike>>;
      release(): Promise<void>;
    }>;
  };
}

/** Options of {@link ortActivationRuntime}. */
export interface OrtActivationRuntimeOptions {
  /**
   * Extra session options (threads, execution providers, …); they replace the defaults of the same
   * key (graphOptimizationLevel 'all', `extra.session.intra_op.allow_spinning` '0').
   */
  sessionOptions?: Record<string, unknown>;
}

const ORT_TYPE: Record<string, string> = { float32: 'float32', float16: 'float16', int32: 'int32', int64: 'int64', int8: 'int8', uint8: 'uint8', bool: 'bool', int16: 'int16', uint16: 'uint16', float64: 'float64' };

function toFloat32(name: string, t: OrtTensorLike): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16' && d instanceof Uint16Array) return float16ToFloat32Array(d);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d)) return Float32Array.from(d as unknown as ArrayLike<number>);
  throw new ArgumentError(`onnxruntime activations: value '${name}' of type ${t.type} is not numeric`);
}

/** Graph outputs of one value's range, reduced in the graph (see {@link ortActivationRuntime}). */
interface RangeOutputs {
  min: string;
  max: string;
  sum: string;
  size: string;
  /** With `smallBelow`: largest finite |x|, finite nonzero entries, those below the threshold. */
  stats?: { maxAbs: string; nonzero: string; small: string };
}

/**
 * `model` with `full` added as graph outputs and, for each name of `reduced`, ReduceMin, ReduceMax,
 * ReduceSum (keepdims 0, every axis) and Size nodes whose outputs are added as graph outputs.
 */
function augment(model: Model, full: readonly string[], reduced: readonly string[], smallBelow?: number): { model: Model; ranges: Map<string, RangeOutputs> } {
  const g = model.graph;
  const outputs = new Set(g.outputs.map((o) => o.name));
  const added: ValueInfo[] = full.filter((n) => !outputs.has(n)).map((name) => ({ name, type: g.valueInfo.get(name)?.type ?? null }));
  const nodes: Node[] = [];
  const ranges = new Map<string, RangeOutputs>();
  const fresh = reduced.length ? new NameGenerator(g) : undefined;
  const initializers = new Map<string, Tensor>();
  const scalar = (elemType: 'float32' | 'int64'): ValueType => ({ kind: 'tensor', elemType, shape: [] });
  for (const name of reduced) {
    const o: RangeOutputs = { min: fresh!.value(`${name}_range_min`), max: fresh!.value(`${name}_range_max`), sum: fresh!.value(`${name}_range_sum`), size: fresh!.value(`${name}_range_size`) };
    for (const [op, out] of [['ReduceMin', o.min], ['ReduceMax', o.max], ['ReduceSum', o.sum]] as const) {
      nodes.push(createNode(op, [name], [out], { keepdims: { type: 'int', value: 0 } }, { name: fresh!.node(out) }));
      added.push({ name: out, type: scalar('float32') });
    }
    nodes.push(createNode('Size', [name], [o.size], {}, { name: fresh!.node(o.size) }));
    added.push({ name: o.size, type: scalar('int64') });
    if (smallBelow !== undefined) o.stats = smallCounts(name, smallBelow, fresh!, nodes, initializers, added, scalar);
    ranges.set(name, o);
  }
  const graph = { ...g, nodes: [...g.nodes, ...nodes], outputs: [...g.outputs, ...added], ...(initializers.size ? { initializers: new Map([...g.initializers, ...initializers]) } : {}) };
  return { model: { ...model, graph }, ranges };
}

/**
 * In-graph counts for `convert-float16`'s range check, so no value is copied out: the largest
 * finite |x| (Where(IsInf(x), 0, |x|) reduced by max), the finite nonzero entries and those below
 * `smallBelow`, summed as int64 (exact past float32's 2^24).
 */
function smallCounts(
  name: string,
  smallBelow: number,
  fresh: NameGenerator,
  nodes: Node[],
  initializers: Map<string, Tensor>,
  added: ValueInfo[],
  scalar: (e: 'float32' | 'int64') => ValueType,
): { maxAbs: string; nonzero: string; small: string } {
  const v = (s: string): string => fresh.value(`${name}_${s}`);
  const node = (op: string, inputs: string[], out: string, attrs: Parameters<typeof createNode>[3] = {}): string => {
    nodes.push(createNode(op, inputs, [out], attrs, { name: fresh.node(out) }));
    return out;
  };
  const constant = (s: string, x: number): string => {
    const n = v(s);
    initializers.set(n, tensor(Float32Array.of(x), [], 'float32', { backend: 'cpu' }));
    return n;
  };
  const zero = constant('zero', 0);
  const abs = node('Abs', [name], v('abs'));
  const inf = node('IsInf', [name], v('isinf'));
  const finite = node('Not', [inf], v('finite'));
  const positive = node('Greater', [abs, zero], v('positive'));
  const nonzeroMask = node('And', [positive, finite], v('nonzero_mask'));
  const smallMask = node('And', [positive, node('Less', [abs, constant('threshold', smallBelow)], v('below'))], v('small_mask'));
  const count = (mask: string, s: string): string => {
    const out = node('ReduceSum', [node('Cast', [mask], v(`${s}_int`), { to: { type: 'int', value: 7 } })], v(s), { keepdims: { type: 'int', value: 0 } });
    added.push({ name: out, type: scalar('int64') });
    return out;
  };
  const maxAbs = node('ReduceMax', [node('Where', [inf, zero, abs], v('finite_abs'))], v('max_abs'), { keepdims: { type: 'int', value: 0 } });
  added.push({ name: maxAbs, type: scalar('float32') });
  return { maxAbs, nonzero: count(nonzeroMask, 'nonzero'), small: count(smallMask, 'small') };
}

/**
 * Collect activations with onnxruntime. Graph inputs asked for are returned from the feeds; values
 * no node of the main graph produces (initializers, unknown names) are left out; the rest become
 * graph outputs. Float32 values asked for as ranges (`opts.ranges` of `open`) are reduced in the
 * graph — ReduceMin, ReduceMax and Size outputs, so only scalars leave onnxruntime — and a
 * ReduceSum tells whether a batch held NaN (any NaN makes the sum NaN, while onnxruntime's min/max
 * kernels may skip it or not): such a value is then fetched in full from a second session, so its
 * range skips NaN values as the interpreter path's does.
 */
export function ortActivationRuntime(ort: OrtModuleLike, opts: OrtActivationRuntimeOptions = {}): ActivationRuntime {
  // no spinning intra-op threads: calibration runs whole batches of large ops, and spinning between
  // them only burns cpu (measured: ~10 % of the cpu time of ResNet-18 calibration, same wall time)
  const sessionOptions = { graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } }, ...opts.sessionOptions };
  return {
    name: 'onnxruntime',
    async open(model: Model, fetch: readonly string[], openOpts?: ActivationOpenOptions) {
      const g = model.graph;
      const inputs = new Set(g.inputs.map((i) => i.name));
      const produced = new Set(g.nodes.flatMap((n) => n.outputs));
      const fetched = new Set(fetch);
      const rangeNames = (openOpts?.ranges ?? []).filter((n) => !fetched.has(n));
      let types: ReadonlyMap<string, ValueType> | undefined;
      const typeOf = (name: string): ValueType | null | undefined => {
        const known = g.valueInfo.get(name)?.type ?? g.outputs.find((o) => o.name === name)?.type;
        if (known) return known;
        // exported models often list no intermediate value types: infer them once
        types ??= inferValueTypes(g, { opset: opsetVersion(model) ?? 21 }).types;
        return types.get(name);
      };
      // range-only values of unknown or non-float32 type are fetched in full (and reduced by the caller)
      const reduced: string[] = [];
      const asked = [...fetch];
      for (const name of rangeNames) {
        const t = typeOf(name);
        if (produced.has(name) && t?.kind === 'tensor' && t.elemType === 'float32') reduced.push(name);
        else asked.push(name);
      }
      // in-graph small counts need IsInf (opset 10); older models return those values in full
      const stats = openOpts?.smallBelow !== undefined && (opsetVersion(model) ?? 21) >= 10 ? openOpts.smallBelow : undefined;
      if (openOpts?.smallBelow !== undefined && stats === undefined) asked.push(...reduced.splice(0));
      const fromSession = asked.filter((n) => produced.has(n));
      const augmented = augment(model, fromSession, reduced, stats);
      const ranges = augmented.ranges;
      const session = await ort.InferenceSession.create(writeModel(augmented.model), sessionOptions);
      const rangeOutputs = [...ranges.values()].flatMap((o) => [o.min, o.max, o.sum, o.size, ...(o.stats ? [o.stats.maxAbs, o.stats.nonzero, o.stats.small] : [])]);
      // the values whose batch held NaN come from this session, made on the first such batch
      let full: Awaited<ReturnType<OrtModuleLike['InferenceSession']['create']>> | undefined;
      return {
        async run(feeds: Feeds) {
          const ortFeeds: Record<string, OrtTensorLike> = {};
          for (const [name, t] of Object.entries(feeds)) {
            const type = ORT_TYPE[t.dtype];
            if (!type) throw new ArgumentError(`onnxruntime activations: input '${name}' has dtype ${t.dtype}, which is not fed to onnxruntime`);
            ortFeeds[name] = new ort.Tensor(type, t.dataSync() as ArrayBufferView, t.shape);
          }
          const res = new Map<string, ActivationValue | ActivationRange>();
          const wanted = [...fromSession, ...rangeOutputs];
          const out = wanted.length ? await session.run(ortFeeds, wanted) : {};
          for (const name of asked) {
            const t = out[name];
            if (t) res.set(name, { data: toFloat32(name, t), shape: [...t.dims] });
            else if (inputs.has(name) && feeds[name]) {
              const f = feeds[name];
              const d = f.dataSync();
              // a float16 feed's storage is its half-float bits
              const data = d instanceof Float32Array ? d : f.dtype === 'float16' ? float16ToFloat32Array(d as Uint16Array) : Float32Array.from(d as ArrayLike<number>, Number);
              res.set(name, { data, shape: f.shape });
            }
          }
          const withNaN: string[] = [];
          for (const [name, o] of ranges) {
            const scalar = (k: string): number => Number((out[k]!.data as ArrayLike<number | bigint>)[0]);
            if (Number.isNaN(scalar(o.sum))) withNaN.push(name);
            else res.set(name, { min: scalar(o.min), max: scalar(o.max), count: scalar(o.size), ...(o.stats ? { maxAbs: scalar(o.stats.maxAbs), nonzero: scalar(o.stats.nonzero), small: scalar(o.stats.small) } : {}) });
          }
          if (withNaN.length) {
            full ??= await ort.InferenceSession.create(writeModel(augment(model, [...fromSession, ...reduced], []).model), sessionOptions);
            const again = await full.run(ortFeeds, withNaN);
            for (const name of withNaN) res.set(name, { data: toFloat32(name, again[name]!), shape: [...again[name]!.dims] });
          }
          return res;
        },
        async close() {
          await session.release();
          await full?.release();
        },
      };
    },
  };
}
