/**
 * The class names of an exported classification head: from `--labels a,b,c`, else from the
 * `id2label` of the `--config` JSON, else Hugging Face's LABEL_0 … (with a note). Checked against
 * the head's number of classes before anything is written.
 */
import { type EncoderShape, isClassificationTask } from '@whittle/eval';
import { UsageError } from '../errors.js';

/** Where the labels came from: given, or Hugging Face's defaults (config.json says LABEL_i). */
export interface ResolvedLabels {
  labels: string[] | undefined;
  note: string | undefined;
}

function checkNames(names: readonly string[], where: string, classes: number): void {
  if (names.length !== classes) throw new UsageError(`${where} names ${names.length} label${names.length === 1 ? '' : 's'}; the model's head has ${classes} classes (output 'logits' last dim)`);
  const empty = names.findIndex((n) => n === '');
  if (empty >= 0) throw new UsageError(`${where}: label ${empty} is empty`);
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (seen.has(n)) throw new UsageError(`${where}: label '${n}' is given twice (classes ${seen.get(n)} and ${i}); label2id needs distinct names`);
    seen.set(n, i);
  });
}

/** A config.json `id2label` ({"0": "NEGATIVE", …}) as names by index; throws UsageError naming what is wrong. */
function fromId2label(v: unknown, classes: number): string[] {
  const where = `--config id2label`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${where} must be an object of class index → name, e.g. {"0": "NEGATIVE", "1": "POSITIVE"}`);
  const entries = Object.entries(v as Record<string, unknown>);
  const names: string[] = new Array<string>(entries.length);
  for (const [k, name] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || String(i) !== k) throw new UsageError(`${where} key '${k}' is not a class index 0…${entries.length - 1}`);
    if (typeof name !== 'string') throw new UsageError(`${where}['${k}'] is ${JSON.stringify(name)}, not a string`);
    names[i] = name;
  }
  checkNames(names, where, classes);
  return names;
}

/**
 * The labels to write for `shape`'s head. `--labels` (comma-separated) wins over the config's
 * `id2label`; either must name exactly the head's classes, distinct and non-empty. Labels for a
 * model without a classification head are refused.
 */
export function resolveLabels(shape: EncoderShape, flag: string | undefined, config: Record<string, unknown>): ResolvedLabels {
  const classes = shape.labels;
  if (!isClassificationTask(shape.task) || classes === undefined) {
    if (flag !== undefined) throw new UsageError(`--labels is for classification heads (text-classification, token-classification); the model is exported for ${shape.task}`);
    return { labels: undefined, note: undefined };
  }
  if (flag !== undefined) {
    const names = flag.split(',').map((s) => s.trim());
    checkNames(names, `--labels '${flag}'`, classes);
    return { labels: names, note: undefined };
  }
  if (config.id2label !== undefined) return { labels: fromId2label(config.id2label, classes), note: undefined };
  return { labels: undefined, note: `config.json id2label is LABEL_0…LABEL_${classes - 1} (Hugging Face's default): the pipeline reports those names; give the real ones with --labels or a --config with id2label` };
}
