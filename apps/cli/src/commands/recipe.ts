import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runRecipe } from '@whittle/graph';
import { ortTeacher } from '@whittle/distill/node';
import { readInput, userPath, writeOutput } from '../model_io.js';
import { UsageError } from '../errors.js';
import { createProgress } from '../progress.js';
import { contextFor, type RunFlags } from './context.js';
import { addRunFlags } from './run_pass.js';

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
    .action(async (recipePath: string, input: string, o: RunFlags & { output: string; transformersJs?: string; teacher?: string }) => {
    const rp = userPath(recipePath);
    if (!existsSync(rp)) throw new UsageError(`recipe '${recipePath}' does not exist`);
    const text = readFileSync(rp, 'utf8');
    const model = await readInput(input);
    const ctx = await contextFor(model, o);
    if (o.teacher) await readInput(o.teacher);
    const teacher = o.teacher ? await ortTeacher(userPath(o.teacher)) : undefined;
    const progress = createProgress('recipe', { quiet: !!o.json });
    let r;
    try {
      r = await runRecipe(model, text, { ...ctx, ...(teacher ? { resources: { teacher } } : {}), onProgress: (f, m) => progress.update(f, m) });
    } finally {
      progress.stop();
      await teacher?.release?.();
    }
    const path = await writeOutput(r.model, o.output, input, o.transformersJs);
    if (o.json) process.stdout.write(`${JSON.stringify({ recipe: r.name, output: path, steps: r.steps }, null, 2)}\n`);
    else {
      for (const s of r.steps) process.stdout.write(`step ${s.step + 1} ${s.pass}: ${s.report.summary}\n`);
      process.stdout.write(`wrote ${path}\n`);
    }
  });
}
