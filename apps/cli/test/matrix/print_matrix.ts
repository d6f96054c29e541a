/** Print the technique × corpus matrix (the test asserts it; this shows it): `node --conditions=@whittle/source --import tsx test/matrix/print_matrix.ts [model ids]`. */
import { readModel } from '@whittle/onnx';
import { CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import { TECHNIQUES, linearFraction, matrixTable, referenceOutputs, runCell, type MatrixCell } from './run_matrix.js';

const only = process.argv.slice(2);
const cells: MatrixCell[] = [];
for (const m of CORPUS.filter((x) => !only.length || only.includes(x.id))) {
  const bytes = corpusBytes(m);
  const model = readModel(bytes);
  const feeds = [corpusFeeds(m, 1), corpusFeeds(m, 2)];
  const ref = await referenceOutputs(bytes, feeds);
  const lf = await linearFraction(model);
  for (const t of TECHNIQUES) {
    const c = await runCell(m.id, model, bytes, t, feeds, ref);
    cells.push(c);
    console.log(`${m.id} (${(lf * 100).toFixed(0)} % linear) ${t.id}: ${c.outcome} ${c.ratio?.toFixed(2) ?? ''} ${c.cosine?.toFixed(4) ?? ''} ${c.ms} ms ${c.reason?.slice(0, 300) ?? ''}`);
  }
}
console.log(matrixTable(cells));
