/**
 * One fuzz case: mutate a seed, then readModel, summarize, and one pass (round robin over every
 * registered pass) on whatever was accepted; a pass's output must write and read back. Anything
 * thrown must be a WhittleError.
 */
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import '@whittle/distill';
import { getPass, listPasses, runPass, summarize } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { Rng, WhittleError } from '@whittle/tensor';
import { mutate } from '@whittle/testing/fuzz';
import type { Seed } from './corpus.js';

/**
 * Options that keep every pass quick on fuzzed models: a fixed rank with randomized SVD (full
 * spectra of every matrix are not what the fuzzer is after).
 */
const LOWRANK = { rankSelection: 'fixed', rank: 4, svd: 'randomized', randomizedMinDim: 1 };
const FAST: Record<string, Record<string, unknown>> = {
  lowrank: LOWRANK,
  'lowrank-linear': LOWRANK,
  'lowrank-conv': LOWRANK,
  'cluster-weights': { iterations: 5 },
};

export const PASS_NAMES = listPasses().map((p) => p.name);

export interface CaseResult {
  index: number;
  seed: string;
  mutation: string;
  /** 'rejected' (typed error at read), 'accepted' (read, summary and pass all fine or typed). */
  outcome: 'rejected' | 'accepted' | 'failed';
  stage?: string;
  pass: string;
  error?: string;
}

function typed(e: unknown): e is WhittleError {
  return e instanceof WhittleError;
}

/** Run case `index` of the run seeded `runSeed`. */
export async function runCase(seeds: readonly Seed[], runSeed: number, index: number): Promise<CaseResult & { bytes: Uint8Array }> {
  const rng = new Rng(runSeed * 1_000_003 + index);
  const seed = seeds[index % seeds.length]!;
  const m = mutate(seed.bytes, rng);
  const pass = PASS_NAMES[Math.floor(index / seeds.length) % PASS_NAMES.length]!;
  const base = { index, seed: seed.name, mutation: m.description, pass, bytes: m.bytes };
  const fail = (stage: string, e: unknown): CaseResult & { bytes: Uint8Array } => ({
    ...base,
    outcome: 'failed',
    stage,
    error: e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 6).join('\n')}` : String(e),
  });
  let model;
  try {
    model = readModel(m.bytes, { externalData: seed.externalData });
  } catch (e) {
    return typed(e) ? { ...base, outcome: 'rejected', stage: 'readModel', error: (e as Error).message } : fail('readModel', e);
  }
  try {
    summarize(model);
  } catch (e) {
    if (!typed(e)) return fail('summarize', e);
  }
  let out;
  try {
    out = (await runPass(getPass(pass), model, FAST[pass] ?? {}, { seed: 0 })).model;
  } catch (e) {
    return typed(e) ? { ...base, outcome: 'accepted', stage: 'pass', error: (e as Error).message } : fail(`pass ${pass}`, e);
  }
  try {
    readModel(writeModel(out));
  } catch (e) {
    return fail(`write/read of the ${pass} output`, e);
  }
  return { ...base, outcome: 'accepted', stage: 'done' };
}
