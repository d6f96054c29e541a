/**
 * CI fuzz run: 2,000 mutated models through readModel, the summary and every registered pass.
 * Each must come back as a valid model or a typed WhittleError — no untyped exception, no case
 * over 5 s, no allocation far beyond the input. The long run (20,000+) is `pnpm --filter whittle fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { decodeWire, encodeWire, mutate } from '@whittle/testing/fuzz';
import { runFuzz } from './fuzz/harness.js';
import { PASS_NAMES } from './fuzz/case.js';
import { buildCorpus } from './fuzz/corpus.js';

describe('fuzzing (short mode)', () => {
  it('the wire tree re-encodes every seed byte for byte; mutating never touches the input', async () => {
    for (const seed of await buildCorpus()) {
      expect(Buffer.from(encodeWire(decodeWire(seed.bytes))).equals(Buffer.from(seed.bytes)), seed.name).toBe(true);
      const copy = seed.bytes.slice();
      const rng = new Rng(1);
      for (let i = 0; i < 50; i++) mutate(seed.bytes, rng);
      expect(Buffer.from(seed.bytes).equals(Buffer.from(copy))).toBe(true);
    }
  });

  it('2,000 mutated models: valid model or typed error, never a hang or a blow-up', async () => {
    const s = await runFuzz({ cases: 2000, seed: 1 });
    const report = s.failures.slice(0, 5).map((f) => `#${f.index} ${f.kind}: ${f.detail}`).join('\n\n');
    expect(s.failures, report).toEqual([]);
    expect(s.cases).toBe(2000);
    // both paths are exercised: refusals, and accepted models that go through passes
    expect(s.rejected).toBeGreaterThan(200);
    expect(s.accepted).toBeGreaterThan(200);
    const untested = PASS_NAMES.filter((p) => !s.passOk[p]);
    expect(untested.length, `passes that never completed on an accepted model: ${untested.join(', ')}`).toBeLessThan(PASS_NAMES.length / 2);
  }, 600_000);
});
