import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runRecipe } from '@whittle/graph';
import { ortTeacher } from '@whittle/distill/node';
import { checkOutput, readInput, userPath, writeOutput } from '../model_io.js';
import { UsageError } from '../errors.js';
import { createProgress } from '../progress.js';
import { contextFor } from './context.js';
import { withTrainingData } from '../data.js';
import { fidelityCheck } from '../output_fidelity.js';
import { type PassRunFlags, addRunFlags, fidelityField, printFidelity, printRun } from './run_pass.js';

/** `whittle run <recipe.yaml|json> <model> -o out`: a chain of passes from a recipe file. */
export function addRecipeCommand(program: Command): void {
  addRunFlags(
    program
      .command('run')
      .description('run a recipe (YAML or JSON: { name?, passes: [{ pass, options? }] }) on a model')
      .argument('<recipe>', 'recipe file (.yaml, .yml or .json)')
      .argument('<model>', 'input .onnx file'),
  )
    .option('--teacher <model>', "teacher .onnx file for 'distill' steps (run in onnxruntime-node)")
    .action(async (recipePath: string, input: string, o: PassRunFlags & { teacher?: string }) => {
    const rp = userPath(recipePath);
    if (!existsSync(rp)) throw new UsageError(`recipe '${recipePath}' does not exist`);
    const text = readFileSync(rp, 'utf8');
    const model = await readInput(input);
    await checkOutput(o.output, { input, transformersJs: o.transformersJs });
    const ctx = await withTrainingData(await contextFor(model, o), model, o, o.teacher ? 'kl' : 'lm');
    if (o.teacher) await readInput(o.teacher);
    const teacher = o.teacher ? await ortTeacher(userPath(o.teacher), o.lossOutput ? { output: o.lossOutput } : {}) : undefined;
    const progress = createProgress('recipe', { quiet: !!o.json });
    let r;
    try {
      r = await runRecipe(model, text, {
        ...ctx,
        ...(teacher ? { resources: { teacher } } : {}),
        frontEnd: o.frontEnd !== false,
        requireCompression: true,
        onProgress: (f, m) => progress.update(f, m),
      });
    } finally {
      progress.stop();
      await teacher?.release?.();
    }
    const check = fidelityCheck(model, userPath(input), o.data);
    const path = await writeOutput(r.model, o.output, { input, original: model, transformersJs: o.transformersJs, verify: check.verify });
    printRun(r, path, !!o.json, { recipe: r.name, ...fidelityField(check.result()) });
    printFidelity(check.result(), !!o.json, r.steps.some((s) => 'epochs' in s.options || 'fineTuneEpochs' in s.options));
  });
}
