/**
 * What a technique command did to the answers: the written model and the input model run in
 * onnxruntime-node on a few samples (the first of `--data`, else made-up inputs) and compared
 * output by output. A compression whose outputs collapsed (structured pruning of a detector
 * without fine-tuning, an aggressive sparsity) gets a warning instead of a silent "wrote …".
 * It runs before the output is written (a `writeOutput` hook): an output onnxruntime loads but
 * cannot run where the input runs is refused with nothing written; anything else never fails the
 * command, and what cannot be compared is said and skipped.
 */
import { statSync } from 'node:fs';
import { outputClassColumns, type Model } from '@whittle/graph';
import { FidelityAccumulator, batchesOf, syntheticSource, type DataSource } from '@whittle/eval';
import { openCliData } from './data.js';
import { cliInputSpecs, noteFolderSizes } from './folder_shapes.js';

/** Samples compared (one batch). */
export const FIDELITY_SAMPLES = 4;
/** Cosine below which the outputs count as moved far from the input model's. */
export const FIDELITY_WARN_COSINE = 0.9;
/** Files larger than this are not run twice more just to compare. */
const MAX_COMPARED_BYTES = 512 * 2 ** 20;

/** One output compared. */
export interface OutputAgreement {
  output: string;
  cosine: number;
  /** Fraction of rows (along the last axis) whose argmax agrees, for outputs with ≥ 2 columns. */
  top1?: number;
}

/**
 * A model to compare the output with other than its input model: distillation's teacher, whose
 * answers the student learned (comparing with the untrained student would flag the training).
 */
export interface FidelityReference {
  /** The reference model file. */
  path: string;
  /** How the lines name it: 'the teacher'. */
  label: string;
  /** Its output the written model's is compared with, when their names differ (the distilled one). */
  output?: string;
}

/** The comparison of a written model with its input model (or a {@link FidelityReference}). */
export interface OutputFidelity {
  /** What the output was compared with: 'the input model' or the reference's label. */
  against: string;
  /** What was fed: '4 made-up samples' or '4 samples of <data>'. */
  samples: string;
  /** The samples were made up (no --data): a low agreement may come from the inputs, not the model. */
  madeUp: boolean;
  outputs: OutputAgreement[];
  /** The lowest cosine over the outputs. */
  worstCosine: number;
}

/** The written model fails in onnxruntime-node where the input model runs. */
export interface OutputBroken {
  broken: string;
  samples: string;
}

function sizeOf(model: Uint8Array | string): number {
  return typeof model === 'string' ? statSync(model, { throwIfNoEntry: false })?.size ?? 0 : model.byteLength;
}

type Feeds = Record<string, { data: unknown; dims: number[]; type: string }>;

/**
 * Up to {@link FIDELITY_SAMPLES} samples of `--data` (or made-up inputs) for `model`, as batches
 * (a model with a fixed batch of 1 gets one sample per batch).
 */
async function samples(model: Model, data: string | undefined): Promise<{ batches: Feeds[]; count: number; what: string; madeUp: boolean }> {
  const inputs = cliInputSpecs(model);
  const source: DataSource = data ? (await openCliData(data, model, 'test')).source : syntheticSource(inputs, { count: FIDELITY_SAMPLES });
  // a data spec of kind synthetic makes its samples up too
  const madeUp = !data || source.dataFree;
  if (!data) noteFolderSizes(model);
  const batches: Feeds[] = [];
  let count = 0;
  for await (const b of batchesOf(source, { inputs, batchSize: FIDELITY_SAMPLES, limit: FIDELITY_SAMPLES })) {
    batches.push(Object.fromEntries(Object.entries(b.feeds).map(([k, t]) => [k, { data: t.dataSync(), dims: [...t.shape], type: t.dtype }])));
    count += b.count;
  }
  if (!count) throw new Error(`${data ?? 'the made-up data'} holds no samples`);
  const noun = count === 1 ? 'sample' : 'samples';
  return { batches, count, what: madeUp ? `${count} made-up ${noun}` : `${count} ${noun} of ${data}`, madeUp };
}

/** Feeds for a reference whose inputs are named otherwise: one input each, renamed; else as they are. */
function feedsFor(inputNames: readonly string[], feeds: Feeds): Feeds {
  const given = Object.keys(feeds);
  if (inputNames.every((n) => given.includes(n)) || inputNames.length !== 1 || given.length !== 1) return feeds;
  return { [inputNames[0]!]: feeds[given[0]!]! };
}

/**
 * Run the input model (`inputPath`, or `original` encoded; or `reference`) and the output (its
 * bytes or file) in onnxruntime-node on the same samples and compare every float output they
 * share (against a reference of other output names: its `output`, or first float one, with the
 * written model's first); a string saying why not when they cannot be compared.
 */
export async function outputFidelity(original: Model, inputPath: string | undefined, output: Uint8Array | string, data: string | undefined, reference?: FidelityReference): Promise<OutputFidelity | OutputBroken | string> {
  const refPath = reference?.path ?? inputPath;
  if (sizeOf(output) > MAX_COMPARED_BYTES || (refPath && sizeOf(refPath) > MAX_COMPARED_BYTES)) return 'models over 512 MB are not run again to compare (use whittle evaluate)';
  const { createOrtRunner } = await import('@whittle/eval/node');
  const { writeModel } = await import('@whittle/onnx');
  try {
    const { batches, what, madeUp } = await samples(original, data);
    const before = await createOrtRunner(refPath ?? writeModel(original));
    const after = await createOrtRunner(output);
    try {
      const isFloat = (r: typeof before, n: string): boolean => /float/.test(r.outputTypes.get(n) ?? '');
      let pairs: [string, string][] = before.outputNames.filter((n) => after.outputNames.includes(n) && isFloat(before, n)).map((n) => [n, n]);
      if (reference && (!pairs.length || (reference.output && !pairs.some(([r]) => r === reference.output)))) {
        const r = reference.output ?? before.outputNames.find((n) => isFloat(before, n));
        const o = after.outputNames.includes(r ?? '') ? r : after.outputNames.find((n) => isFloat(after, n));
        pairs = r && o ? [[r, o]] : [];
      }
      const acc = new Map<string, FidelityAccumulator>();
      for (const feeds of batches) {
        let a: Awaited<ReturnType<typeof before.run>>;
        try {
          a = await before.run(feedsFor(before.inputNames, feeds) as never);
        } catch (e) {
          if (!reference) throw e;
          return `${reference.label} does not run on ${what} (${(e as Error).message.split('\n')[0]})`;
        }
        let b: Awaited<ReturnType<typeof after.run>>;
        try {
          b = await after.run(feeds as never);
        } catch (e) {
          // the input model ran on these samples, the written one does not: a broken model
          return { broken: (e as Error).message.split('\n')[0]!, samples: what };
        }
        for (const [rn, on] of pairs) {
          const x = a[rn];
          const y = b[on];
          if (!x || !y || x.data.length !== y.data.length) continue;
          const classes = outputClassColumns(original, on, y.dims);
          if (!acc.has(on)) acc.set(on, new FidelityAccumulator(classes !== undefined && classes >= 2 ? { numClasses: classes } : {}));
          acc.get(on)!.add(x.data, y.data);
        }
      }
      const outputs: OutputAgreement[] = [...acc].map(([output, f]) => {
        const m = f.result();
        return { output, cosine: m.cosine, ...(m.top1Agreement !== undefined ? { top1: m.top1Agreement } : {}) };
      });
      if (!outputs.length) return reference ? `no float output of the same size as ${reference.label}'s to compare` : 'no float output to compare';
      return { against: reference?.label ?? 'the input model', samples: what, madeUp, outputs, worstCosine: Math.min(...outputs.map((o) => o.cosine)) };
    } finally {
      await before.release();
      await after.release();
    }
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

/**
 * An output onnxruntime-node loads but cannot run where the input model runs is as refused as one
 * it cannot load: an {@link OrtRejectedError} naming `what` (the output, and that nothing was written).
 */
export async function refuseBroken(f: OutputFidelity | OutputBroken | string, what: string): Promise<OutputFidelity | string> {
  if (typeof f === 'string' || !('broken' in f)) return f;
  const { OrtRejectedError } = await import('@whittle/eval/node');
  throw new OrtRejectedError(`to run ${what} on ${f.samples} the input model runs on`, f.broken);
}

/**
 * The comparison as a {@link writeOutput} `verify` hook: run before the output is written (a
 * broken output is refused with nothing written); `result` holds what was measured.
 */
export function fidelityCheck(original: Model, inputPath: string | undefined, data: string | undefined, reference?: FidelityReference): { verify: (output: Uint8Array | string, what: string) => Promise<void>; result: () => OutputFidelity | string } {
  let result: OutputFidelity | string = 'not compared';
  return {
    verify: async (output, what) => void (result = await refuseBroken(await outputFidelity(original, inputPath, output, data, reference), what)),
    result: () => result,
  };
}

/** The lines a command prints: the worst output's agreement, and a warning when it collapsed. */
export function fidelityLines(f: OutputFidelity | string, trains: boolean, against = 'the input model'): { out: string[]; err: string[] } {
  if (typeof f === 'string') return { out: [], err: [`note: outputs not compared with ${against}'s: ${f}`] };
  const worst = f.outputs.reduce((w, o) => (o.cosine < w.cosine ? o : w));
  const top1 = worst.top1 !== undefined ? `, top-1 agreement ${(worst.top1 * 100).toFixed(1)} %` : '';
  const which = f.outputs.length > 1 ? ` (worst of ${f.outputs.length} outputs: '${worst.output}')` : '';
  const out = [`outputs vs ${f.against} in onnxruntime-node on ${f.samples}: cosine ${worst.cosine.toFixed(5)}${which}${top1}`];
  const err: string[] = [];
  if (!(worst.cosine >= FIDELITY_WARN_COSINE)) {
    const far = `the output model's answers ${f.against === 'the input model' ? 'moved far from' : 'are far from'} ${f.against}'s ('${worst.output}': cosine ${worst.cosine.toFixed(3)} on ${f.samples})`;
    const fix = trains ? 'train longer or on more data, or compress less' : 'fine-tune the output on real data (whittle fine-tune … --data), or compress less';
    // made-up inputs can mislead both ways (a detector answers ~0 on noise): a note, not a warning
    err.push(f.madeUp ? `note: ${far}; made-up inputs may not show how it does on real ones: compare on real data with --data (or whittle evaluate); if it holds, ${fix}` : `warning: ${far}; ${fix}`);
  }
  return { out, err };
}
