/**
 * Fuzz worker process: runs cases [from, to) and reports each over IPC with its peak RSS
 * (VmHWM, reset per case through /proc/self/clear_refs). The parent kills it when a case hangs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildCorpus } from './corpus.js';
import { runCase } from './case.js';

const [runSeed, from, to] = process.argv.slice(2).map(Number) as [number, number, number];
const seeds = await buildCorpus();

function rssKb(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

for (let i = from; i < to; i++) {
  process.send!({ type: 'start', index: i });
  const measured = resetPeak();
  const before = rssKb('VmRSS');
  const r = await runCase(seeds, runSeed, i);
  const peakKb = measured ? rssKb('VmHWM') - before : -1;
  const { bytes, ...result } = r;
  process.send!({ type: 'end', result, inputBytes: bytes.length, peakKb, ...(r.outcome === 'failed' ? { bytes: Buffer.from(bytes).toString('base64') } : {}) });
}
process.send!({ type: 'finished' });
process.disconnect();
