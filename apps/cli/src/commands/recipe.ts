import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runRecipe } from '@whittle/graph';
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
  ).action(async (recipePath: string, input: string, o: RunFlags & { output: string; transformersJs?: string }) => {
    const rp = userPath(recipePath);
    if (!existsSync(rp)) throw new UsageError(`recipe '${recipePath}' does not exist`);
    const text = readFileSync(rp, 'utf8');
    const model = await readInput(input);
    const ctx = await contextFor(model, o);
    const progress = createProgress('recipe', { quiet: !!o.json });
    let r;
    try {
      r = await runRecipe(model, text, { ...ctx, onProgress: (f, m) => progress.update(f, m) });
    } finally {
      progress.stop();
    }
    const path = await writeOutput(r.model, o.output, input, o.transformersJs);
    if (o.json) process.stdout.write(`${JSON.stringify({ recipe: r.name, output: path, steps: r.steps }, null, 2)}\n`);
    else {
      for (const s of r.steps) process.stdout.write(`step ${s.step + 1} ${s.pass}: ${s.report.summary}\n`);
      process.stdout.write(`wrote ${path}\n`);
    }
  });
}
