/**
 * CSV/TSV tables (parsed with papaparse, line by line, so a large table is never held whole):
 * feature columns → one model input, an optional label column → class labels (integers or
 * names), or float regression targets when its values are numbers that are not all integers.
 */
import Papa from 'papaparse';
import { DataError } from './errors.js';
import { type DataFiles, readLines } from './files.js';
import type { DataChunk, DataSource, ModelInputSpec } from './source.js';
import { sizeOfShape } from './source.js';

/** Options of {@link tabularSource}. */
export interface TabularOptions {
  /** Model input the features feed (default: the model's only input). */
  input?: string | undefined;
  /** Feature columns by header name (default: every column but the label). */
  features?: readonly string[] | undefined;
  /** Label column (default: a column named label/labels/target/class/y, if any). */
  label?: string | undefined;
  /** Field delimiter (default: tab for .tsv, else comma). */
  delimiter?: string | undefined;
  /** Shape of one sample's features when the input is not [N, features] (e.g. [1, 16]). */
  sampleShape?: readonly number[] | undefined;
  /** Class names in the model's output order, for text labels (default: the names sorted). */
  classes?: readonly string[] | undefined;
}

const LABEL_COLUMNS = ['label', 'labels', 'target', 'class', 'y'];
const WHOLE = /^[-+]?\d+(\.0*)?$/;

function parseRow(line: string, delimiter: string, file: string, lineNo: number): string[] {
  const r = Papa.parse<string[]>(line, { delimiter, header: false });
  const e = r.errors[0];
  if (e) throw new DataError(`line ${lineNo}: ${e.message}`, { file });
  return (r.data[0] ?? []).map((s) => s.trim());
}

/** A hint when a cell or line holds another common delimiter: the table is likely split on the wrong one. */
function delimiterHint(cell: string, delimiter: string): string {
  const other = [';', '\t', '|', ','].find((d) => d !== delimiter && cell.includes(d));
  return other ? ` (it holds '${other === '\t' ? '\\t' : other}': if that separates the columns, give delimiter: '${other === '\t' ? '\\t' : other}' in a data spec)` : '';
}

/** A CSV/TSV table with a header line. */
export async function tabularSource(files: DataFiles, path: string, inputs: readonly ModelInputSpec[], opts: TabularOptions = {}): Promise<DataSource> {
  const delimiter = opts.delimiter ?? (/\.tsv$/i.test(path) ? '\t' : ',');
  const name = opts.input ?? (inputs.length === 1 ? inputs[0]!.name : undefined);
  if (!name) throw new DataError(`the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); name the one the features feed (input: in a data spec)`, { file: path });
  // first pass: header, row count, label classes
  let header: string[] | undefined;
  let rows = 0;
  // each label value and the first line it is on (to name the line of an odd one)
  const labelValues = new Map<string, number>();
  let labelCol = -1;
  for await (const [no, line] of readLines(files, path)) {
    if (!line.trim()) continue;
    const cells = parseRow(line, delimiter, path, no);
    if (!header) {
      header = cells;
      labelCol = opts.label !== undefined ? header.indexOf(opts.label) : header.findIndex((h) => LABEL_COLUMNS.includes(h.toLowerCase()));
      if (opts.label !== undefined && labelCol < 0) throw new DataError(`no label column '${opts.label}'; the columns are ${header.join(', ')}`, { file: path });
      continue;
    }
    rows++;
    if (cells.length !== header.length) throw new DataError(`line ${no} has ${cells.length} field(s), the header ${header.length}${delimiterHint(line, delimiter)}`, { file: path, sample: rows - 1 });
    if (labelCol >= 0) {
      const v = (cells[labelCol] ?? '').trim();
      if (v === '') throw new DataError(`line ${no}: the label column '${header[labelCol]}' is empty; every row needs a label (or leave the column out for unlabeled data)`, { file: path, sample: rows - 1 });
      if (!labelValues.has(v)) labelValues.set(v, no);
    }
  }
  if (!header) throw new DataError('the table is empty; give a header line and one line per sample', { file: path });
  if (rows === 0) throw new DataError('the table has a header but no rows', { file: path });
  const features = (opts.features ?? header.filter((_, k) => k !== labelCol)).map((f) => {
    const k = header!.indexOf(f);
    if (k < 0) throw new DataError(`no feature column '${f}'; the columns are ${header!.join(', ')}`, { file: path });
    return k;
  });
  const values = [...labelValues.keys()];
  // whole numbers (2, 2.0) are class indices
  const numericLabels = values.every((v) => WHOLE.test(v));
  // numbers that are not all whole (-0.40, 3.7e2) are a regression target, not class names
  const floatTargets = !opts.classes && labelCol >= 0 && !numericLabels && values.every((v) => Number.isFinite(Number(v)));
  if (!opts.classes && labelCol >= 0 && !numericLabels && !floatTargets) {
    // numbers and words mixed (0, 1, NA): a missing-value marker, not a class of its own
    const odd = values.find((v) => !Number.isFinite(Number(v)));
    if (values.some((v) => Number.isFinite(Number(v))) && odd !== undefined) {
      throw new DataError(`line ${labelValues.get(odd)}: label '${odd}' is not a number while other labels are (${values.filter((v) => Number.isFinite(Number(v))).slice(0, 5).join(', ')}); remove or fix that row, or give classes: (the names in the model's output order) in a data spec`, { file: path });
    }
  }
  if (numericLabels && !opts.classes) {
    const negative = values.find((v) => Number(v) < 0);
    if (negative !== undefined) throw new DataError(`line ${labelValues.get(negative)}: label ${negative} is not a class index (0, 1, …)`, { file: path });
  }
  const classes = opts.classes ? [...opts.classes] : numericLabels || floatTargets ? [] : values.sort();
  const sampleShape = [...(opts.sampleShape ?? [features.length])];
  if (sizeOfShape(sampleShape) !== features.length) throw new DataError(`sampleShape [${sampleShape.join(', ')}] holds ${sizeOfShape(sampleShape)} values, the table has ${features.length} feature column(s)`, { file: path });
  const width = header.length;
  return {
    kind: 'csv',
    description: `${rows} row(s) × ${features.length} feature(s) from ${path}${labelCol >= 0 ? `, ${floatTargets ? 'float targets (regression)' : 'labels'} from column '${header[labelCol]}'` : ''}`,
    dataFree: false,
    hasLabels: labelCol >= 0 && !floatTargets,
    hasTargets: floatTargets,
    size: rows,
    async *chunks(): AsyncGenerator<DataChunk> {
      const step = 256;
      let x = new Float32Array(step * features.length);
      let y = new Int32Array(step);
      let t = new Float32Array(step);
      let m = 0;
      let sample = 0;
      let first = 0;
      let seenHeader = false;
      const flush = (): DataChunk => {
        const c: DataChunk = { inputs: { [name]: { data: x.subarray(0, m * features.length), shape: [m, ...sampleShape], dtype: 'float32' } }, count: m, file: path, first };
        if (floatTargets) c.targets = { [header![labelCol]!]: { data: t.subarray(0, m), shape: [m, 1], dtype: 'float32' } };
        else if (labelCol >= 0) c.labels = y.subarray(0, m);
        return c;
      };
      for await (const [no, line] of readLines(files, path)) {
        if (!line.trim()) continue;
        if (!seenHeader) {
          seenHeader = true;
          continue;
        }
        const cells = parseRow(line, delimiter, path, no);
        if (cells.length !== width) throw new DataError(`line ${no} has ${cells.length} field(s), the header ${width}${delimiterHint(line, delimiter)}`, { file: path, sample });
        features.forEach((k, j) => {
          const v = Number(cells[k]);
          if (cells[k] === '' || !Number.isFinite(v)) throw new DataError(`line ${no}, column '${header![k]}': '${cells[k]}' is not a number${delimiterHint(cells[k]!, delimiter)}`, { file: path, sample });
          x[m * features.length + j] = v;
        });
        if (floatTargets) t[m] = Number(cells[labelCol]);
        else if (labelCol >= 0) {
          const v = cells[labelCol]!.trim();
          const k = classes.length ? classes.indexOf(v) : Number(v);
          if (k < 0) throw new DataError(`line ${no}: label '${v}' is not one of the classes ${classes.join(', ')}`, { file: path, sample });
          y[m] = k;
        }
        m++;
        sample++;
        if (m === step) {
          yield flush();
          x = new Float32Array(step * features.length);
          y = new Int32Array(step);
          t = new Float32Array(step);
          first = sample;
          m = 0;
        }
      }
      if (m) yield flush();
    },
  };
}
