import type { Command } from 'commander';
import { type Model, type Pass, getPass, hasPass, runPass } from '@whittle/graph';
import { readInput, writeOutput } from '../model_io.js';
import { createProgress } from '../progress.js';
import { contextFor, type RunFlags } from './context.js';
import { addPassOptions, pickPassOptions } from './options.js';

/** Technique groups and the passes behind their subcommands. */
export const TECHNIQUES: Record<string, { description: string; passes: Record<string, string> }> = {
  quantize: {
    description: 'quantization: weight-only, dynamic, static (calibrated), GPTQ, float16, clustering, QAT, mixed precision, SmoothQuant',
    passes: {
      weights: 'quantize-weights',
      dynamic: 'quantize-dynamic',
      static: 'quantize-static',
      gptq: 'gptq',
      float16: 'convert-float16',
      cluster: 'cluster-weights',
      qat: 'qat',
      mixed: 'quantize-mixed',
      smooth: 'smooth-quant',
    },
  },
  prune: {
    description: 'pruning: unstructured, N:M, structured, gradual with fine-tuning, sensitivity',
    passes: { unstructured: 'prune-unstructured', nm: 'prune-nm', structured: 'prune-structured', gradual: 'prune-gradual', sensitivity: 'prune-sensitivity' },
  },
  factorize: {
    description: 'low-rank factorization of MatMul/Gemm and Conv',
    passes: { lowrank: 'lowrank', linear: 'lowrank-linear', conv: 'lowrank-conv' },
  },
};

/** Common flags of commands that run passes. */
export function addRunFlags(cmd: Command): Command {
  return cmd
    .requiredOption('-o, --output <file>', 'where to write the compressed model (written atomically; never the input)')
    .option('--data <name>', 'dataset for passes that fine-tune or calibrate (mnist)')
    .option('--calibration-samples <n>', 'calibration images taken from --data', (v) => Number(v), 256)
    .option('--seed <n>', 'random seed: the same seed gives the same bytes', (v) => Number(v), 0)
    .option('--backend <name>', 'compute backend for passes (cpu or webgpu)', 'cpu')
    .option('--transformers-js <dtype>', 'treat --output as a model folder in the Transformers.js layout and write onnx/model<suffix>.onnx for this dtype (fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4)')
    .option('--json', 'print the pass report as JSON');
}

/** Run one pass on a model file and write the result. */
export async function runPassCommand(pass: Pass, input: string, opts: Record<string, unknown>, extra: { model?: Model; resources?: Record<string, unknown> } = {}): Promise<void> {
  const flags = opts as unknown as RunFlags & { output: string; transformersJs?: string };
  const model = extra.model ?? (await readInput(input));
  const ctx = { ...(await contextFor(model, flags)), ...(extra.resources ? { resources: extra.resources } : {}) };
  const progress = createProgress(pass.name, { quiet: !!flags.json });
  let result;
  try {
    result = await runPass(pass, model, pickPassOptions(opts, pass.optionsSchema?.fields ?? {}), { ...ctx, onProgress: (f, m) => progress.update(f, m) });
  } finally {
    progress.stop();
  }
  const path = await writeOutput(result.model, flags.output, extra.model ? undefined : input, flags.transformersJs);
  if (flags.json) process.stdout.write(`${JSON.stringify({ pass: pass.name, output: path, report: result.report }, null, 2)}\n`);
  else {
    process.stdout.write(`${pass.name}: ${result.report.summary}\n`);
    for (const w of result.report.warnings ?? []) process.stdout.write(`warning: ${w}\n`);
    process.stdout.write(`wrote ${path}\n`);
  }
}

/** `whittle <technique> <method> <model> -o out [--pass-option …]` for every registered pass. */
export function addTechniqueCommands(program: Command): void {
  for (const [group, t] of Object.entries(TECHNIQUES)) {
    const g = program.command(group).description(t.description);
    for (const [sub, passName] of Object.entries(t.passes)) {
      if (!hasPass(passName)) continue;
      const pass = getPass(passName);
      const c = addRunFlags(g.command(sub).argument('<model>', 'input .onnx file').description(`${pass.description} (pass '${pass.name}')`));
      addPassOptions(c, pass.optionsSchema?.fields ?? {});
      c.action(async (model: string, o: Record<string, unknown>) => runPassCommand(pass, model, o));
    }
  }
}
