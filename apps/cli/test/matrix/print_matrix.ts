/**
 * Print the technique × model matrix that corpus_matrix.test.ts asserts:
 * `node --conditions=@whittle/source --import tsx test/matrix/print_matrix.ts [model ids…] [--tech id,id] [--opts '{json}']` (--opts: extra options of each technique's first step).
 */
import { readModel, writeModel } from '@whittle/onnx';
import { CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import { FIXTURES } from './fixtures.js';
import { TECHNIQUES, linearFraction, matrixTable, referenceOutputs, runCell, type MatrixCell } from './run_matrix.js';

const args = process.argv.slice(2);
const techAt = args.indexOf('--tech');
const techs = techAt >= 0 ? (args.splice(techAt, 2)[1] ?? '').split(',') : [];
const optsAt = args.indexOf('--opts');
const extra = optsAt >= 0 ? (JSON.parse(args.splice(optsAt, 2)[1] ?? '{}') as Record<string, unknown>) : {};
const only = args;
const models = [
  ...CORPUS.map((m) => ({ id: m.id, inputs: m.inputs, bytes: () => corpusBytes(m) })),
  ...FIXTURES.map((f) => ({ id: f.id, inputs: f.inputs, bytes: () => writeModel(f.build()) })),
];
const cells: MatrixCell[] = [];
for (const m of models.filter((x) => !only.length || only.includes(x.id))) {
  const bytes = m.bytes();
  const model = readModel(bytes);
  const feeds = [1, 2, 3, 4].map((s) => corpusFeeds(m, s));
  const ref = await referenceOutputs(bytes, feeds);
  const lf = await linearFraction(model);
  for (const t0 of TECHNIQUES.filter((x) => !techs.length || techs.includes(x.id))) {
    const t = { ...t0, steps: t0.steps.map((s, i) => (i === 0 ? { ...s, options: { ...s.options, ...extra } } : s)) };
    const c = await runCell(m.id, model, bytes, t, feeds, ref);
    cells.push(c);
    console.log(`${m.id} (${(lf * 100).toFixed(0)} % linear) ${t.id}: ${c.outcome} ${c.ratio?.toFixed(2) ?? ''} ${c.cosine?.toFixed(4) ?? ''} ${c.ms} ms ${c.reason?.slice(0, 300) ?? ''}`);
  }
}
console.log(matrixTable(cells));
