/**
 * Long fuzz run: `pnpm --filter whittle fuzz -- --cases 20000 --seed 7`. Prints counts, the
 * slowest case and the largest memory growth; writes failing inputs to ./fuzz-failures/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz } from '../test/fuzz/harness.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '20000' }, seed: { type: 'string', default: '7' }, out: { type: 'string', default: 'fuzz-failures' } } });
const cases = Number(values.cases);
const t0 = performance.now();
const s = await runFuzz({
  cases,
  seed: Number(values.seed),
  onProgress: (n) => {
    if (n % 500 === 0) process.stderr.write(`${n}/${cases} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  },
});
const secs = (performance.now() - t0) / 1000;
console.log(`fuzz: ${s.cases} cases in ${secs.toFixed(0)} s (seed ${values.seed})`);
console.log(`  rejected with a typed error at read: ${s.rejected}`);
console.log(`  accepted (summary + pass, typed errors allowed): ${s.accepted}`);
console.log(`  pass outputs that wrote and read back: ${Object.values(s.passOk).reduce((a, b) => a + b, 0)} over ${Object.keys(s.passOk).length} passes`);
console.log(`  slowest case ${s.slowestMs.toFixed(0)} ms (${s.slowest}); largest peak RSS growth ${(s.maxPeakBytes / 2 ** 20).toFixed(1)} MB`);
console.log(`  failures: ${s.failures.length}`);
if (s.failures.length) {
  const dir = resolve(process.env['INIT_CWD'] ?? '.', values.out);
  mkdirSync(dir, { recursive: true });
  for (const f of s.failures) {
    console.log(`  #${f.index} ${f.kind}: ${f.detail.split('\n')[0]}`);
    if (f.bytes) writeFileSync(join(dir, `case-${f.index}.onnx`), Buffer.from(f.bytes, 'base64'));
  }
  process.exitCode = 1;
}
