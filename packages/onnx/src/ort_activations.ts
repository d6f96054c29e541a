/**
 * An {@link ActivationRuntime} on onnxruntime (node or web): the model is written with the wanted
 * intermediate values added as graph outputs — as onnxruntime's own calibrator does — and run in
 * one session. The onnxruntime module is passed in, so this file has no dependency on it and stays
 * browser-safe.
 */
import type { ActivationRuntime, ActivationValue, Feeds, Model, ValueInfo } from '@whittle/graph';
import { ArgumentError, float16BitsToFloat32 } from '@whittle/tensor';
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
  /** Extra session options (threads, execution providers, …). */
  sessionOptions?: Record<string, unknown>;
}

const ORT_TYPE: Record<string, string> = { float32: 'float32', float16: 'float16', int32: 'int32', int64: 'int64', int8: 'int8', uint8: 'uint8', bool: 'bool', int16: 'int16', uint16: 'uint16', float64: 'float64' };

function toFloat32(name: string, t: OrtTensorLike): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16' && d instanceof Uint16Array) return Float32Array.from(d, float16BitsToFloat32);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d)) return Float32Array.from(d as unknown as ArrayLike<number>);
  throw new ArgumentError(`onnxruntime activations: value '${name}' of type ${t.type} is not numeric`);
}

/**
 * Collect activations with onnxruntime. Graph inputs asked for are returned from the feeds; values
 * no node of the main graph produces (initializers, unknown names) are left out; the rest become
 * graph outputs.
 */
export function ortActivationRuntime(ort: OrtModuleLike, opts: OrtActivationRuntimeOptions = {}): ActivationRuntime {
  return {
    name: 'onnxruntime',
    async open(model: Model, fetch: readonly string[]) {
      const g = model.graph;
      const inputs = new Set(g.inputs.map((i) => i.name));
      const outputs = new Set(g.outputs.map((o) => o.name));
      const produced = new Set(g.nodes.flatMap((n) => n.outputs));
      const added: ValueInfo[] = [];
      const fromSession: string[] = [];
      for (const name of fetch) {
        if (!produced.has(name)) continue;
        fromSession.push(name);
        if (!outputs.has(name)) added.push({ name, type: g.valueInfo.get(name)?.type ?? null });
      }
      const augmented: Model = { ...model, graph: { ...g, outputs: [...g.outputs, ...added] } };
      const session = await ort.InferenceSession.create(writeModel(augmented), { graphOptimizationLevel: 'all', ...opts.sessionOptions });
      return {
        async run(feeds: Feeds) {
          const ortFeeds: Record<string, OrtTensorLike> = {};
          for (const [name, t] of Object.entries(feeds)) {
            const type = ORT_TYPE[t.dtype];
            if (!type) throw new ArgumentError(`onnxruntime activations: input '${name}' has dtype ${t.dtype}, which is not fed to onnxruntime`);
            ortFeeds[name] = new ort.Tensor(type, t.dataSync() as ArrayBufferView, t.shape);
          }
          const res = new Map<string, ActivationValue>();
          const out = fromSession.length ? await session.run(ortFeeds, fromSession) : {};
          for (const name of fetch) {
            const t = out[name];
            if (t) res.set(name, { data: toFloat32(name, t), shape: [...t.dims] });
            else if (inputs.has(name) && feeds[name]) {
              const f = feeds[name];
              const d = f.dataSync();
              res.set(name, { data: d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>, Number), shape: f.shape });
            }
          }
          return res;
        },
        close: () => session.release(),
      };
    },
  };
}
