/**
 * The `whittle` program (its commands) and {@link runWhittle}, which runs it in-process on an
 * argument list and returns the exit code: 0 ok, 1 failure, 2 usage.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { WhittleError } from '@whittle/tensor';
import { exitCodeOf } from './errors.js';

function num(name: string, lo: number, hi: number, integer = false): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < lo || x > hi || (integer && !Number.isInteger(x))) throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got '${v}'`);
    return x;
  };
}

/**
 * The program. With `only: 'inspect'` just `whittle inspect`: start-up then loads the graph, onnx
 * and eval packages but none of the technique packages (whose imports register their passes).
 */
export async function buildProgram(only?: 'inspect'): Promise<Command> {
  const program = new Command('whittle')
    .description('Compress ONNX models: quantize, prune, factorize, distill, evaluate, run recipes.')
    // a one-line hint, not the whole option list (which buries the error above a screenful)
    .showHelpAfterError("(add --help for the command's options)")
    .exitOverride();
  const { addInspectCommands } = await import('./commands/inspect.js');
  if (only === 'inspect') {
    addInspectCommands(program);
    return program;
  }
  await Promise.all([import('@whittle/quantize'), import('@whittle/prune'), import('@whittle/lowrank'), import('@whittle/distill')]);
  const { addTechniqueCommands } = await import('./commands/run_pass.js');
  const { addRecipeCommand } = await import('./commands/recipe.js');
  const { addEvaluateCommand } = await import('./commands/evaluate.js');
  const { addDistillCommand } = await import('./commands/distill.js');
  const { addQuantizeStreamCommand } = await import('./commands/quantize_stream.js');
  const { addExportTransformersCommand } = await import('./commands/export_transformers.js');
  addInspectCommands(program);
  addTechniqueCommands(program);
  addQuantizeStreamCommand(program);
  addDistillCommand(program);
  addRecipeCommand(program);
  addEvaluateCommand(program);
  addExportTransformersCommand(program);
  program
    .command('demo')
    .description("Deep Compression on MNIST: prune Whittle's LeNet-300-100 with fine-tuning, share weights, evaluate in onnxruntime-node")
    .option('-o, --out <dir>', 'output folder for models, report and model card', 'whittle-demo-out')
    .option('--sparsity <fraction>', 'global weight sparsity of the pruning stage', num('--sparsity', 0, 0.999), 0.95)
    .option('--prune-epochs <n>', 'training epochs of gradual pruning', num('--prune-epochs', 1, 100, true), 12)
    .option('--clusters <k>', 'shared values per layer (<= 16: 4-bit codes)', num('--clusters', 2, 16, true), 16)
    .option('--cluster-epochs <n>', 'centroid fine-tuning epochs', num('--cluster-epochs', 0, 100, true), 2)
    .option('--seed <n>', 'random seed (same seed, same files)', num('--seed', 0, 2 ** 31, true), 1)
    .option('--json', 'print the report as JSON on stdout', false)
    .action(async (o) => (await import('./commands/demo.js')).runDemo(o));
  return program;
}

/**
 * Run the command line on `argv` (without the node and script arguments) in this process and
 * return its exit code: 0 ok, 1 failure, 2 usage. Errors are printed to stderr, as the bin does.
 */
export async function runWhittle(argv: string[]): Promise<number> {
  // `inspect <model> [flags]` (not its --help, which lists the whole program's usage line)
  const inspectOnly = argv[0] === 'inspect' && !argv.includes('--help') && !argv.includes('-h');
  const program = await buildProgram(inspectOnly ? 'inspect' : undefined);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed the message
    const code = exitCodeOf(e);
    const name = e instanceof WhittleError ? e.constructor.name : 'error';
    process.stderr.write(`whittle: ${name}: ${(e as Error).message}\n`);
    return code;
  }
}
