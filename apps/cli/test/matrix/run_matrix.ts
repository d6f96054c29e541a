/**
 * The technique × model matrix: every technique of the command line, run as the command line
 * runs it (front end on, outcomes enforced), on every model of the corpus; the output checked as
 * the command line checks it (onnxruntime-node must load it, it must not grow) and compared with
 * the original on seeded inputs in onnxruntime-node.
 */
import { type Model, NoCompressionError, PassManager, getPass, weightCoverage } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { checkOrtLoads } from '@whittle/eval/node';
import { Rng, tensor } from '@whittle/tensor';
import * as ort from 'onnxruntime-node';
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import type { CorpusFeed } from '@whittle/testing/corpus';
import { ortSaturatesU8S8 } from '@whittle/testing';

/**
 * Passes whose full-range int8 weights lose accuracy on the corpus where onnxruntime's u8s8
 * kernels saturate (x86 without VNNI; see ortSaturatesU8S8): static int8's QLinearConv (ocr-cls
 * cosine 0.61), so it gets 7-bit weights there. Dynamic int8 is not listed: its convolutions run as
 * ConvInteger with uint8 weights, and 7 bits cost the VAD models more (0.83) than saturation does.
 */
const SATURATING_PASSES = new Set(['quantize-static']);

/** One technique as a user would run it. */
export interface Technique {
  id: string;
  /** Passes in order with their options (the first gets the options). */
  steps: { pass: string; options?: Record<string, unknown> }[];
  /** Needs calibration data (synthetic, from the model's input specs). */
  calibrate?: boolean;
  /** Smallest cosine similarity of the outputs with the original's on random inputs. */
  minCosine: number;
  /** Smallest weight-size ratio on models with ≥ 90 % of their parameters in MatMul/Gemm/Conv/Gather. */
  minRatio?: number;
}

/** The techniques of the matrix, with the fidelity floor and size target of each. */
export const TECHNIQUES: readonly Technique[] = [
  { id: 'int8-weights', steps: [{ pass: 'quantize-weights', options: { bits: 8, granularity: 'per-channel' } }], minCosine: 0.99, minRatio: 3.5 },
  { id: 'int4-weights', steps: [{ pass: 'quantize-weights' }], minCosine: 0.9, minRatio: 6 },
  { id: 'dynamic-int8', steps: [{ pass: 'quantize-dynamic' }], minCosine: 0.95, minRatio: 3.5 },
  { id: 'static-int8', steps: [{ pass: 'quantize-static' }], calibrate: true, minCosine: 0.9 },
  { id: 'float16', steps: [{ pass: 'convert-float16' }], minCosine: 0.999, minRatio: 1.9 },
  { id: 'cluster', steps: [{ pass: 'cluster-weights' }], minCosine: 0.95 },
  { id: 'prune-50', steps: [{ pass: 'prune-unstructured', options: { sparsity: 0.5 } }], minCosine: 0.7 },
  { id: 'prune-2:4', steps: [{ pass: 'prune-nm' }], minCosine: 0.6 },
  { id: 'prune-structured-25', steps: [{ pass: 'prune-structured', options: { sparsity: 0.25 } }], minCosine: 0.3 },
  { id: 'lowrank', steps: [{ pass: 'lowrank' }], minCosine: 0.8 },
];

/** What one (model, technique) run came to. */
export interface MatrixCell {
  model: string;
  technique: string;
  outcome: 'compressed' | 'refused' | 'failed';
  /** Stored weight bytes before / after (compressed runs). */
  ratio?: number;
  cosine?: number;
  /** Why it was refused, or what failed. */
  reason?: string;
  bytesIn: number;
  bytesOut?: number;
  ms: number;
}

type Feeds = Record<string, CorpusFeed>;

function ortFeeds(f: Feeds): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(f)) out[k] = new ort.Tensor(v.type, v.data, v.dims);
  return out;
}

/**
 * Outputs of a model on each feed set, concatenated (float tensor outputs only, or the labels of a
 * classifier that answers nothing else). An output whose values
 * all lie in [0, 1] is a probability (sigmoid/softmax): it is compared as log-odds, since on
 * synthetic inputs probabilities saturate near 0 or 1 where every model looks alike.
 */
async function outputs(bytes: Uint8Array, feeds: Feeds[]): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(bytes);
  // onnxruntime-node cannot return a sequence or map (skl2onnx's ZipMap): fetch the tensors only
  const tensors = s.outputMetadata.filter((m) => m.isTensor).map((m) => m.name);
  const parts: number[] = [];
  for (const f of feeds) {
    const r = await s.run(ortFeeds(f), tensors);
    // a classifier whose only tensor output is its labels (skl2onnx with ZipMap): labels as one-hot
    // rows, so the cosine is the fraction of labels that agree
    const labelsOnly = Object.values(r).every((t) => t.type !== 'float32' && t.type !== 'float16');
    for (const name of tensors) {
      const d = r[name]!.data;
      if (!(d instanceof Float32Array)) {
        if (r[name]!.type === 'float16') throw new Error(`output '${name}' became float16`);
        if (labelsOnly && d instanceof BigInt64Array) for (const v of d) parts.push(...oneHot(Number(v)));
        continue;
      }
      const prob = d.every((v) => v >= 0 && v <= 1);
      for (const v of d) parts.push(prob ? logOdds(v) : v);
    }
  }
  await s.release();
  return Float64Array.from(parts);
}

/** A class label as a one-hot row of 16 (larger or negative labels as an all-zero row). */
function oneHot(v: number): number[] {
  const row = new Array<number>(16).fill(0);
  if (v >= 0 && v < 16) row[v] = 1;
  return row;
}

function logOdds(p: number): number {
  const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
  return Math.log(q / (1 - q));
}

/** Cosine similarity (1 for two all-zero vectors). */
export function cosine(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return -1;
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    x += a[i]! ** 2;
    y += b[i]! ** 2;
  }
  if (x === 0 && y === 0) return 1;
  return d / Math.sqrt(x * y);
}

async function* calibration(feeds: Feeds[]): AsyncGenerator<Record<string, ReturnType<typeof tensor>>> {
  for (const f of feeds) {
    const t: Record<string, ReturnType<typeof tensor>> = {};
    for (const [k, v] of Object.entries(f)) t[k] = tensor(v.data instanceof Uint8Array ? Array.from(v.data) : v.data, v.dims, v.type, { backend: "cpu" });
    yield t;
  }
}

/** Run one technique on one model, as the command line does, and measure the result. */
export async function runCell(id: string, model: Model, bytesIn: Uint8Array, tech: Technique, feeds: Feeds[], reference: Float64Array): Promise<MatrixCell> {
  const t0 = Date.now();
  const cell: MatrixCell = { model: id, technique: tech.id, outcome: 'failed', bytesIn: bytesIn.length, ms: 0 };
  try {
    const pm = new PassManager({ frontEnd: true, requireCompression: true, seed: 1, ...(tech.calibrate ? { calibration: { [Symbol.asyncIterator]: () => calibration(feeds) } } : {}) });
    const saturates = await ortSaturatesU8S8();
    for (const s of tech.steps) pm.add(getPass(s.pass), { ...(saturates && SATURATING_PASSES.has(s.pass) ? { reduceRange: true } : {}), ...(s.options ?? {}) });
    const r = await pm.run(model);
    const out = writeModel(r.model);
    cell.bytesOut = out.length;
    cell.ratio = r.outcome.weightBytesBefore / r.outcome.weightBytesAfter;
    if (out.length > bytesIn.length) {
      // what the command line does: the file is not written
      cell.outcome = 'refused';
      cell.reason = `output would be ${out.length} bytes, larger than the input's ${bytesIn.length}`;
    } else {
      await checkOrtLoads(out);
      cell.cosine = cosine(reference, await outputs(out, feeds));
      cell.outcome = 'compressed';
    }
  } catch (e) {
    if (e instanceof NoCompressionError) {
      cell.outcome = 'refused';
      cell.reason = e.message; // the reason and what the run knows about why (e.g. weights held in attributes)
    } else cell.reason = `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  cell.ms = Date.now() - t0;
  return cell;
}

/** Reference outputs of the original model. */
export async function referenceOutputs(bytes: Uint8Array, feeds: Feeds[]): Promise<Float64Array> {
  return outputs(bytes, feeds);
}

/** Fraction of float parameters in MatMul/Gemm/Conv/Gather after the front end. */
export async function linearFraction(model: Model): Promise<number> {
  const { normalizeModel } = await import('@whittle/graph');
  return weightCoverage((await normalizeModel(model)).model).linearFraction;
}

/** A Markdown table of cells: rows models, columns techniques. */
export function matrixTable(cells: MatrixCell[]): string {
  const techs = [...new Set(cells.map((c) => c.technique))];
  const models = [...new Set(cells.map((c) => c.model))];
  const fmt = (c: MatrixCell | undefined): string => {
    if (!c) return '';
    if (c.outcome === 'compressed') return `${c.ratio!.toFixed(2)}x, cos ${c.cosine!.toFixed(4)}`;
    if (c.outcome === 'refused') return 'refused';
    return 'FAILED';
  };
  const lines = [`| model | ${techs.join(' | ')} |`, `|---|${techs.map(() => '---').join('|')}|`];
  for (const m of models) lines.push(`| ${m} | ${techs.map((t) => fmt(cells.find((c) => c.model === m && c.technique === t))).join(' | ')} |`);
  return lines.join('\n');
}

export { Rng };
