import type { Command } from 'commander';
import { type Model, getPass, mlpTemplate } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { ortTeacher } from '@whittle/distill/node';
import { UsageError } from '../errors.js';
import { readInput, userPath } from '../model_io.js';
import { addPassOptions } from './options.js';
import { addRunFlags, runPassCommand } from './run_pass.js';

/**
 * A student from a compact spec: `mlp:784-64-10` (inputs flattened from [1, 28, 28] when the
 * first width is 784; `mlp:4-8-3` for 4 tabular features and 3 classes) — or a path to an ONNX
 * graph. Its input is named 'input', its output 'logits'.
 */
export async function studentFrom(spec: string, seed: number): Promise<{ model: Model; fromFile: boolean }> {
  const m = /^mlp:(\d+(?:-\d+)+)$/.exec(spec);
  if (!m) return { model: await readInput(spec), fromFile: true };
  const layers = m[1]!.split('-').map(Number);
  if (layers.some((w) => !(w >= 1))) throw new UsageError(`student spec '${spec}': widths must be positive integers`);
  return { model: mlpTemplate({ layers, ...(layers[0] === 784 ? { flattenInput: [1, 28, 28] } : {}) }, new Rng(seed)), fromFile: false };
}

/** `whittle distill <student> --teacher t.onnx --data <path|spec> -o out` (any data: images, tabular rows, token ids). */
export function addDistillCommand(program: Command): void {
  const pass = getPass('distill');
  const c = addRunFlags(
    program
      .command('distill')
      .description(`${pass.description} The student is an .onnx file or a spec like mlp:784-64-10; the teacher runs in onnxruntime-node.`)
      .argument('<student>', 'student .onnx file, or mlp:<w0>-<w1>-…-<classes>')
      .requiredOption('--teacher <model>', 'teacher .onnx file'),
  );
  addPassOptions(c, pass.optionsSchema?.fields ?? {});
  c.action(async (studentSpec: string, o: Record<string, unknown>) => {
    if (!o['data']) throw new UsageError('distill needs --data (the samples the student learns the teacher on)');
    const teacherPath = userPath(String(o['teacher']));
    await readInput(String(o['teacher'])); // named refusal of a missing / non-ONNX teacher
    const { model, fromFile } = await studentFrom(studentSpec, Number(o['seed'] ?? 0));
    const lossOutput = o['lossOutput'] as string | undefined;
    const teacher = await ortTeacher(teacherPath, lossOutput ? { output: lossOutput } : {});
    try {
      // unlabeled data trains on the teacher's outputs (kl) unless --loss says otherwise
      // the written student is compared with the teacher it learned, not with its untrained self
      const reference = { path: teacherPath, label: 'the teacher', ...(lossOutput ? { output: lossOutput } : {}) };
      await runPassCommand(pass, studentSpec, o, { ...(fromFile ? {} : { model }), resources: { teacher }, defaultLoss: 'kl', reference });
    } finally {
      await teacher.release?.();
    }
  });
}
