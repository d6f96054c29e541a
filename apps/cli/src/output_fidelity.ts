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
import { FidelityAccumulator, batchesOf, modelInputSpecs, syntheticSource, type DataSource } from '@whittle/eval';
import { openCliData } from './data.js';

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

/** The comparison of a written model with its input model. */
export interface OutputFidelity {
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
  const inputs = modelInputSpecs(model);
  const madeUp = !data || /^synthetic(:\d+)?$/.test(data);
  const source: DataSource = data ? (await openCliData(data, model, 'test')).source : syntheticSource(inputs, { count: FIDELITY_SAMPLES });
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

/**
 * Run the input model (`inputPath`, or `original` encoded) and the output (its bytes or file) in
 * onnxruntime-node on the same samples and compare every float output; a string saying why not
 * when they cannot be compared.
 */
export async function outputFidelity(original: Model, inputPath: string | undefined, output: Uint8Array | string, data: string | undefined): Promise<OutputFidelity | OutputBroken | string> {
  if (sizeOf(output) > MAX_COMPARED_BYTES || (inputPath && sizeOf(inputPath) > MAX_COMPARED_BYTES)) return 'models over 512 MB are not run again to compare (use whittle evaluate)';
  const { createOrtRunner } = await import('@whittle/eval/node');
  const { writeModel } = await import('@whittle/onnx');
  try {
    const { batches, what, madeUp } = await samples(original, data);
    const before = await createOrtRunner(inputPath ?? writeModel(original));
    const after = await createOrtRunner(output);
    try {
      const acc = new Map<string, FidelityAccumulator>();
      for (const feeds of batches) {
        const a = await before.run(feeds as never);
        let b: Awaited<ReturnType<typeof after.run>>;
        try {
          b = await after.run(feeds as never);
        } catch (e) {
          // the input model ran on these samples, the written one does not: a broken model
          return { broken: (e as Error).message.split('\n')[0]!, samples: what };
        }
        for (const name of before.outputNames) {
          const x = a[name];
          const y = b[name];
          if (!x || !y || x.data.length !== y.data.length || !/float/.test(before.outputTypes.get(name) ?? '')) continue;
          const classes = outputClassColumns(original, name, x.dims);
          if (!acc.has(name)) acc.set(name, new FidelityAccumulator(classes !== undefined && classes >= 2 ? { numClasses: classes } : {}));
          acc.get(name)!.add(x.data, y.data);
        }
      }
      const outputs: OutputAgreement[] = [...acc].map(([output, f]) => {
        const m = f.result();
        return { output, cosine: m.cosine, ...(m.top1Agreement !== undefined ? { top1: m.top1Agreement } : {}) };
      });
      if (!outputs.length) return 'no float output to compare';
      return { samples: what, madeUp, outputs, worstCosine: Math.min(...outputs.map((o) => o.cosine)) };
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
export function fidelityCheck(original: Model, inputPath: string | undefined, data: string | undefined): { verify: (output: Uint8Array | string, what: string) => Promise<void>; result: () => OutputFidelity | string } {
  let result: OutputFidelity | string = 'not compared';
  return {
    verify: async (output, what) => void (result = await refuseBroken(await outputFidelity(original, inputPath, output, data), what)),
    result: () => result,
  };
}

/** The lines a command prints: the worst output's agreement, and a warning when it collapsed. */
export function fidelityLines(f: OutputFidelity | string, trains: boolean): { out: string[]; err: string[] } {
  if (typeof f === 'string') return { out: [], err: [`note: outputs not compared with the input model's: ${f}`] };
  const worst = f.outputs.reduce((w, o) => (o.cosine < w.cosine ? o : w));
  const top1 = worst.top1 !== undefined ? `, top-1 agreement ${(worst.top1 * 100).toFixed(1)} %` : '';
  const which = f.outputs.length > 1 ? ` (worst of ${f.outputs.length} outputs: '${worst.output}')` : '';
  const out = [`outputs vs the input model in onnxruntime-node on ${f.samples}: cosine ${worst.cosine.toFixed(5)}${which}${top1}`];
  const err: string[] = [];
  if (!(worst.cosine >= FIDELITY_WARN_COSINE)) {
    const far = `the output model's answers moved far from the input model's ('${worst.output}': cosine ${worst.cosine.toFixed(3)} on ${f.samples})`;
    const fix = trains ? 'train longer or on more data, or compress less' : 'fine-tune the output on real data (whittle fine-tune … --data), or compress less';
    // made-up inputs can mislead both ways (a detector answers ~0 on noise): a note, not a warning
    err.push(f.madeUp ? `note: ${far}; made-up inputs may not show how it does on real ones: compare on real data with --data (or whittle evaluate); if it holds, ${fix}` : `warning: ${far}; ${fix}`);
  }
  return { out, err };
}
