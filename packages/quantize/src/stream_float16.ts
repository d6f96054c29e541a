/**
 * `convert-float16` for models larger than memory. Works on a model read with its external data
 * left in place (see `rewriteModelFile` in @whittle/onnx/node): each unloaded float32 weight is
 * read a band at a time, range-checked, then read again and written to the output data file as
 * float16 band by band.
 * The graph rewrite (Casts at the boundary, float32 islands, Constants) is the in-memory pass
 * itself, run on the graph with a one-element stand-in per streamed weight: a stand-in holds 0,
 * or 70000 when the weight leaves float16's range, so the pass keeps that weight and its readers
 * in float32 exactly as it would on the real values. Peak memory ≈ one band (16 MB in, 8 MB out)
 * plus the graph, whatever the weights' sizes.
 */
import { type Graph, type Model, type RawTensor, type TensorStreamIO, graphScopes, runPass, throwIfAborted } from '@whittle/graph';
import { ArgumentError, float32BitsToFloat16, tensor } from '@whittle/tensor';
import { convertFloat16Pass } from './float16.js';

/** Options of {@link convertFloat16Streaming}. */
export interface StreamFloat16Options {
  /** Keep float32 graph inputs/outputs (Casts at the boundary). Default true. */
  keepIoTypes?: boolean;
  /** Op types kept in float32. */
  blockOps?: string[];
  /** Node names kept in float32. */
  blockNodes?: string[];
  /** Float32 elements read and converted per band (default 4M = 16 MB in, 8 MB out). */
  sliceElements?: number;
  /** Called after each weight. */
  onProgress?: (done: number, total: number, weight: string) => void;
  signal?: AbortSignal;
}

/** What {@link convertFloat16Streaming} did. */
export interface StreamFloat16Result {
  /** Weights written as float16. */
  converted: number;
  /** Weights kept float32 (beyond float16's range, or read only where float32 is needed). */
  keptFloat32: string[];
  bytesIn: number;
  bytesOut: number;
  /** The in-memory pass's summary of the graph rewrite. */
  summary: string;
  /** Whether anything changed: streamed weights converted, or the graph pass changed the graph. */
  changed: boolean;
}

/** Largest finite float16. */
const HALF_MAX = 65504;

function exceedsHalf(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > HALF_MAX && a !== Infinity) return true;
  }
  return false;
}

interface Streamed {
  graph: Graph;
  name: string;
  t: RawTensor;
  half?: RawTensor;
}

/**
 * Convert `model` (read with `deferExternal`) to float16 in place, streaming its unloaded float32
 * weights through `io`. Loaded initializers and the graph go through `convert-float16`.
 */
export async function convertFloat16Streaming(model: Model, io: TensorStreamIO, opts: StreamFloat16Options = {}): Promise<StreamFloat16Result> {
  const slice = opts.sliceElements ?? 2 ** 22;
  if (!Number.isInteger(slice) || slice < 1) throw new ArgumentError(`convertFloat16Streaming: sliceElements must be a positive integer, got ${slice}`);
  const scopes = graphScopes(model.graph);
  const streamed: Streamed[] = [];
  for (const s of scopes) for (const [name, t] of s.graph.rawInitializers) if (t.external && t.dataType === 'float32') streamed.push({ graph: s.graph, name, t });
  const most = Math.max(0, ...streamed.map((w) => w.t.external!.length / 4));
  const band = new Float32Array(Math.min(slice, most));
  const bandBytes = new Uint8Array(band.buffer);
  const bandBits = new Uint32Array(band.buffer);
  const out16 = new Uint16Array(band.length);
  let bytesIn = 0;
  for (const [i, w] of streamed.entries()) {
    throwIfAborted(opts.signal, 'convertFloat16Streaming');
    const ext = w.t.external!;
    if (ext.length % 4) throw new ArgumentError(`convertFloat16Streaming: float32 tensor '${w.name}' has ${ext.length} bytes of external data, not a multiple of 4`);
    const n = ext.length / 4;
    bytesIn += ext.length;
    // elements o .. o+m-1 of the weight into the band (the file is read a band at a time)
    let held = -1;
    const load = (o: number, m: number): void => {
      if (held === o) return; // a weight within one band is read once
      io.load({ dataType: 'float32', dims: [m], external: { ...ext, offset: ext.offset + o * 4, length: m * 4 } }, w.name, bandBytes);
      held = o;
    };
    // range first (a weight float16 cannot hold stays float32 whole), then convert: two reads, no orphan bytes
    let over = false;
    for (let o = 0; o < n && !over; o += band.length) {
      const m = Math.min(band.length, n - o);
      load(o, m);
      over = exceedsHalf(band.subarray(0, m));
    }
    if (!over) {
      const wr = io.begin();
      for (let o = 0; o < n; o += band.length) {
        const m = Math.min(band.length, n - o);
        load(o, m);
        const dst = out16.subarray(0, m);
        float32BitsToFloat16(bandBits.subarray(0, m), dst);
        wr.write(new Uint8Array(dst.buffer, 0, m * 2));
      }
      w.half = { dataType: 'float16', dims: w.t.dims, external: wr.finish() };
    }
    // the stand-in the graph pass sees: only its type, its range and that it is a weight (not one
    // fill value, which the pass would follow like a mask) matter to it
    w.graph.rawInitializers.delete(w.name);
    w.graph.initializers.set(w.name, tensor(Float32Array.of(over ? 70000 : 0, 0), [2], 'float32', { backend: 'cpu' }));
    opts.onProgress?.(i + 1, streamed.length, w.name);
  }
  const r = await runPass(convertFloat16Pass, model, { keepIoTypes: opts.keepIoTypes ?? true, blockOps: opts.blockOps ?? [], blockNodes: opts.blockNodes ?? [] });
  // the pass returns a converted copy: swap the stand-ins for the streamed data, scope by scope
  const after = new Map(graphScopes(r.model.graph).map((s) => [s.path, s.graph]));
  const pathOf = new Map(scopes.map((s) => [s.graph, s.path]));
  const keptFloat32: string[] = [];
  let bytesOut = 0;
  for (const w of streamed) {
    const g = after.get(pathOf.get(w.graph)!);
    const standIn = g?.initializers.get(w.name);
    if (!g || !standIn) continue; // removed by the pass (a weight nothing read)
    g.initializers.delete(w.name);
    if (standIn.dtype === 'float16' && w.half) {
      g.rawInitializers.set(w.name, w.half);
      bytesOut += w.half.external!.length;
    } else {
      g.rawInitializers.set(w.name, w.t);
      keptFloat32.push(w.name);
      bytesOut += w.t.external!.length;
    }
  }
  Object.assign(model, r.model);
  const converted = streamed.length - keptFloat32.length;
  return { converted, keptFloat32, bytesIn, bytesOut, summary: r.report.summary, changed: converted > 0 || r.report.changed };
}
