import type { Command } from 'commander';
import { type Model, type Pass, type PassCli, type RecipeResult, PassDataError, PassManager, PassOptionsError, RecipeError, getPass, hasPass, listPasses } from '@whittle/graph';
import { WhittleError } from '@whittle/tensor';
import { InvalidArgumentError } from 'commander';
import { TRANSFORMERS_JS_DTYPE_SUFFIX } from '@whittle/eval';
import { type TrainingFlags, LOSSES, textUnitHelp, trainingDataProblems, withTrainingData } from '../data.js';
import { checkOutput, readInput, userPath, writeOutput } from '../model_io.js';
import { type FidelityReference, type OutputFidelity, fidelityCheck, fidelityLines } from '../output_fidelity.js';
import { createProgress } from '../progress.js';
import { withSyntheticDimsHint } from '../synthetic_hint.js';
import { contextFor, type RunFlags } from './context.js';
import { addPassOptions, checkLayerNameOptions, checkOpTypeOptions, kebab, pickPassOptions } from './options.js';
import { UsageError } from '../errors.js';
import { TARGETS, type Target, applyTarget } from './target.js';

/**
 * Titles of the command groups passes declare (`cli.group`); the group's help lists its commands
 * after the title. A pass in a group missing here still gets its command, titled by the group name.
 */
const GROUP_TITLES: Readonly<Record<string, string>> = {
  quantize: 'quantization',
  prune: 'pruning',
  factorize: 'low-rank factorization of MatMul/Gemm and Conv',
};

/** One `whittle` command a registered pass declares (`Pass.cli`). */
interface PassCommand {
  pass: Pass;
  cli: PassCli;
}

const groupRank = (g: string | undefined): number => (g === undefined ? -1 : Object.keys(GROUP_TITLES).indexOf(g) >>> 0);

/**
 * Registered passes that declare a command, in an order independent of import order: top-level
 * commands, then the groups of GROUP_TITLES, then other groups by name; commands by name.
 */
export function passCommands(): PassCommand[] {
  return listPasses()
    .flatMap((p) => (p.cli ? [{ pass: getPass(p.name), cli: p.cli }] : []))
    .sort((a, b) => groupRank(a.cli.group) - groupRank(b.cli.group) || (a.cli.group ?? '').localeCompare(b.cli.group ?? '') || a.cli.command.localeCompare(b.cli.command));
}

/**
 * Parser of an integer flag >= `min`: `Number('abc')` is NaN and `--seed abc` would otherwise run
 * with a NaN seed (and `--calibration-samples 0` calibrate on nothing).
 */
function integerFlag(flag: string, min: number): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(x) || x < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got '${v}'`);
    return x;
  };
}

/** Flags of commands that run passes, as commander parses them. */
export type PassRunFlags = RunFlags & TrainingFlags & { output: string; transformersJs?: string; frontEnd?: boolean };

/** Common flags of commands that run passes. */
export function addRunFlags(cmd: Command): Command {
  return cmd
    .requiredOption('-o, --output <file>', 'where to write the compressed model (written atomically; never the input)')
    .option('--data <path|spec>', 'samples to calibrate or train on: a .csv/.tsv (label column: label/target/class/y), .npy/.npz or folder of them, .jsonl (token ids, several inputs by name), image folder, .wav file or folder (windows of 16 kHz mono samples), ONNX test-data folder, a .yaml data spec, mnist, or synthetic[:N]')
    .option('--calibration-samples <n>', 'calibration samples taken from --data', integerFlag('--calibration-samples', 1), 256)
    .option('--loss <name>', `training loss of passes that train: ${LOSSES.join('|')} (ce: cross-entropy on labels of any shape; lm: next-token from input_ids; mse: float targets; kl: distillation; default from the data)`)
    .option('--loss-output <name>', 'graph output the training loss reads (default: the first output)')
    .option('--class-axis <n>', 'class axis of that output for ce/kl (default -1, the last)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new InvalidArgumentError(`--class-axis must be an integer, got '${v}'`);
      return n;
    })
    .option('--text-unit <unit>', textUnitHelp('for training with the next-token loss: fine-tune and the other training passes on token ids, distill --loss lm'))
    .option('--seed <n>', 'random seed: the same seed gives the same bytes', integerFlag('--seed', 0), 0)
    .option('--backend <name>', 'compute backend for passes (cpu or webgpu)', (v) => {
      if (v !== 'cpu' && v !== 'webgpu') throw new InvalidArgumentError(`--backend must be cpu or webgpu, got '${v}'`);
      return v;
    }, 'cpu')
    .option('--no-front-end', 'keep the graph as it is: skip the front end that turns Constant/Identity/Transpose-wrapped weights into initializers, folds BatchNorm and moves weights into the subgraph that reads them')
    .option('--transformers-js <dtype>', 'treat --output as a model folder in the Transformers.js layout and write onnx/model<suffix>.onnx for this dtype (fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4)', (v) => {
      // checked before the passes run, not when the output is written
      if (!Object.hasOwn(TRANSFORMERS_JS_DTYPE_SUFFIX, v)) throw new InvalidArgumentError(`--transformers-js must be one of ${Object.keys(TRANSFORMERS_JS_DTYPE_SUFFIX).join(', ')}, got '${v}'`);
      return v;
    })
    .option('--json', 'print the pass report as JSON');
}

/** Print what a run did (front end, each step, outcome) and where the model went. */
export function printRun(r: RecipeResult, path: string | undefined, json: boolean, extra: Record<string, unknown> = {}): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...extra, output: path ?? null, frontEnd: r.frontEnd, steps: r.steps, outcome: r.outcome }, null, 2)}\n`);
    return;
  }
  if (r.frontEnd?.changed) process.stdout.write(`front end: ${r.frontEnd.summary}\n`);
  for (const s of r.steps) {
    // some passes start their summary with their own name: print it once
    const summary = s.report.summary.startsWith(`${s.pass}: `) ? s.report.summary.slice(s.pass.length + 2) : s.report.summary;
    process.stdout.write(`${r.steps.length > 1 ? `step ${s.step + 1} ` : ''}${s.pass}: ${summary}\n`);
    for (const w of s.report.warnings ?? []) process.stdout.write(`warning: ${w}\n`);
  }
  const { weightBytesBefore: a, weightBytesAfter: b } = r.outcome;
  if (path) process.stdout.write(`weights ${a} -> ${b} bytes (${b > 0 ? (a / b).toFixed(2) : '∞'}x)\nwrote ${path}\n`);
}

/** A pass-option message in the command line's words: `pass 'x': option 'blockSize'` → `--block-size`. */
function asFlags(message: string): string {
  return message.replace(/^pass '[^']+': /, '').replace(/option '([A-Za-z0-9]+)'/g, (_, name: string) => `--${kebab(name)}`);
}

/**
 * Run one pass on a model file (after the front end) and write the result. A run that changes
 * nothing or grows the weights fails (NoCompressionError, exit 1) and writes nothing; so does an
 * output onnxruntime-node refuses.
 */
export async function runPassCommand(pass: Pass, input: string, opts: Record<string, unknown>, extra: { model?: Model; resources?: Record<string, unknown>; then?: Pass; defaultLoss?: 'lm' | 'kl'; reference?: FidelityReference } = {}): Promise<void> {
  const flags = opts as unknown as PassRunFlags;
  const model = extra.model ?? (await readInput(input));
  const outputOptions = { input: extra.model ? undefined : input, original: model, transformersJs: flags.transformersJs };
  if (!pass.cli?.analysis) await checkOutput(flags.output, outputOptions);
  const passOptions = pickPassOptions(opts, pass.optionsSchema?.fields ?? {});
  // option values checked before any work, named as the flags the user typed
  try {
    pass.optionsSchema?.parse(passOptions, pass.name);
  } catch (e) {
    if (e instanceof PassOptionsError) throw new UsageError(asFlags(e.message));
    throw e;
  }
  for (const n of checkOpTypeOptions(model, passOptions, pass.optionsSchema?.fields ?? {})) process.stderr.write(`note: ${n}\n`);
  for (const n of checkLayerNameOptions(model, passOptions, pass.optionsSchema?.fields ?? {})) process.stderr.write(`note: ${n}\n`);
  // passes that train have an epochs option (fine-tune, QAT, gradual pruning, distillation)
  const trains = 'epochs' in (pass.optionsSchema?.fields ?? {});
  const trainingCtx = await withTrainingData(await contextFor(model, flags), model, flags, extra.defaultLoss, trains);
  const ctx = { ...trainingCtx, ...(extra.resources ? { resources: extra.resources } : {}) };
  const analysis = !!pass.cli?.analysis;
  const progress = createProgress(pass.name, { quiet: !!flags.json });
  let result: RecipeResult;
  try {
    const pm = new PassManager({ ...ctx, frontEnd: flags.frontEnd !== false, requireCompression: !analysis, onProgress: (f, m) => progress.update(f, m) });
    pm.add(pass, passOptions);
    if (extra.then) pm.add(extra.then);
    result = await pm.run(model);
  } catch (e) {
    // an option combination the pass refuses when it starts: a usage error, named by its flags
    if (e instanceof RecipeError && e.cause instanceof PassOptionsError) throw new UsageError(asFlags(e.cause.message));
    // one command, one pass: its own typed error, not "recipe step 0 (pass …) failed"
    const own = e instanceof RecipeError && e.cause instanceof WhittleError && !extra.then ? e.cause : e;
    // a pass that stopped for want of training samples: why --data gave none is the cause
    const problem = trainingDataProblems.get(trainingCtx);
    if (problem && own instanceof PassDataError && !ctx.training) throw problem;
    throw withSyntheticDimsHint(own, flags.data, model);
  } finally {
    progress.stop();
  }
  if (analysis) {
    printRun(result, undefined, !!flags.json, { pass: pass.name });
    if (!flags.json) process.stdout.write('analysis only: the model is unchanged, nothing written\n');
    return;
  }
  const check = fidelityCheck(model, extra.model ? undefined : userPath(input), flags.data, extra.reference);
  const path = await writeOutput(result.model, flags.output, { ...outputOptions, verify: check.verify });
  printRun(result, path, !!flags.json, { pass: pass.name, ...fidelityField(check.result()) });
  printFidelity(check.result(), !!flags.json, trains, extra.reference?.label);
}

/** The comparison's numbers for the JSON report (nothing when it was not made). */
export function fidelityField(f: OutputFidelity | string): { fidelity?: OutputFidelity } {
  return typeof f === 'string' ? {} : { fidelity: f };
}

/** The output-vs-input comparison's lines (the JSON report carries the numbers). */
export function printFidelity(f: OutputFidelity | string, json: boolean, trains: boolean, against?: string): void {
  const { out, err } = fidelityLines(f, trains, against);
  if (!json) for (const l of out) process.stdout.write(`${l}\n`);
  for (const l of err) process.stderr.write(`${l}\n`);
}

/**
 * `whittle <group> <command> <model> -o out [--pass-option …]` (or `whittle <command>` without a
 * group) for every registered pass that declares `cli`; flags come from its options schema.
 */
export function addTechniqueCommands(program: Command): void {
  const groups = new Map<string, Command>();
  const commands = passCommands();
  for (const { pass, cli } of commands) {
    if (cli.then && !hasPass(cli.then)) continue;
    const then = cli.then ? getPass(cli.then) : undefined;
    const desc = then ? `${cli.description ?? pass.description} (passes '${pass.name}', '${then.name}')` : `${cli.description ?? pass.description} (pass '${pass.name}')`;
    let parent = program;
    if (cli.group) {
      let g = groups.get(cli.group);
      if (!g) {
        const subs = commands.filter((c) => c.cli.group === cli.group).map((c) => c.cli.command);
        g = program.command(cli.group).description(`${GROUP_TITLES[cli.group] ?? cli.group}: ${subs.join(', ')}`);
        groups.set(cli.group, g);
      }
      parent = g;
    }
    const c = addRunFlags(parent.command(cli.command).argument('<model>', 'input .onnx file').description(desc));
    const fields = pass.optionsSchema?.fields ?? {};
    addPassOptions(c, fields);
    if (cli.group === 'quantize') {
      c.option('--target <runtime>', `runtime the model is for: picks the format that runs fast there and warns when the chosen one runs slower than float32 there [${TARGETS.join('|')}]`, (v) => {
        if (!(TARGETS as readonly string[]).includes(v)) throw new InvalidArgumentError(`--target must be one of ${TARGETS.join(', ')}, got '${v}'`);
        return v;
      });
    }
    c.action(async (model: string, o: Record<string, unknown>) => {
      if (typeof o.target === 'string') {
        const advice = applyTarget(o.target as Target, pass.name, o, new Set(Object.keys(fields)));
        for (const n of advice.notes) process.stderr.write(`target ${o.target}: ${n}\n`);
        for (const w of advice.warnings) process.stderr.write(`warning: target ${o.target}: ${w}\n`);
        o = advice.options;
      }
      await runPassCommand(pass, model, o, then ? { then } : {});
    });
  }
}
