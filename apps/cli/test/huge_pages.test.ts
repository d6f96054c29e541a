import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hugePageEnv, LARGE_INPUT_BYTES, namesLargeFiles } from '../bin/huge_pages.mjs';

// What the machine offers, read independently of the helper: glibc ≥ 2.35 and transparent huge
// pages not disabled on Linux.
function machineSupportsIt(): boolean {
  if (process.platform !== 'linux') return false;
  const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
  if (!glibc) return false;
  const [major, minor] = glibc.split('.').map(Number) as [number, number];
  const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
  return (major > 2 || (major === 2 && minor >= 35)) && existsSync(thp) && !readFileSync(thp, 'utf8').includes('[never]');
}

describe('huge-page malloc for the whittle command', () => {
  it("leaves the user's own setting of the tunable alone, and WHITTLE_HUGE_PAGES=0 turns it off", () => {
    expect(hugePageEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })).toBeUndefined();
    expect(hugePageEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2' })).toBeUndefined();
    expect(hugePageEnv({ WHITTLE_HUGE_PAGES: '0' })).toBeUndefined();
  });

  it('adds the tunable after any others where the machine supports it, and a process started with it gets huge pages', () => {
    const env = hugePageEnv({ PATH: process.env.PATH, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
    if (!machineSupportsIt()) {
      expect(env).toBeUndefined();
      return;
    }
    expect(env).toEqual({ PATH: process.env.PATH, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1' });
    // a 64 MiB buffer touched in a child: its anonymous huge pages, with and without the tunable
    const script = "const b = Buffer.allocUnsafe(64 << 20); b.fill(1); process.stdout.write(require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8').match(/AnonHugePages:\\s+(\\d+)/)[1]);";
    const hugeKb = (e: NodeJS.ProcessEnv): number => Number(spawnSync(process.execPath, ['-e', script], { env: e, encoding: 'utf8' }).stdout);
    expect(hugeKb(env!)).toBeGreaterThanOrEqual(32 << 10);
    const thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
    // with THP in madvise mode (the common default) nothing gets huge pages unless malloc asks
    if (thp.includes('[madvise]')) expect(hugeKb({ PATH: process.env.PATH })).toBeLessThan(32 << 10);
  });

  it('re-launches only for large inputs: a model with its external data beside it, or any large file argument', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whittle-hp-'));
    try {
      const model = join(dir, 'model.onnx');
      writeFileSync(model, new Uint8Array(1000));
      const other = join(dir, 'other.onnx');
      writeFileSync(other, new Uint8Array(1000));
      expect(namesLargeFiles(['inspect', model])).toBe(false);
      // sparse files: their size counts, no disk is used
      const data = join(dir, 'model.onnx_data');
      writeFileSync(data, '');
      truncateSync(data, LARGE_INPUT_BYTES);
      expect(namesLargeFiles(['quantize', 'weights', model, '-o', join(dir, 'out.onnx')])).toBe(true);
      expect(namesLargeFiles(['quantize', 'weights', other])).toBe(false);
      expect(namesLargeFiles(['evaluate', other, `--data=${data}`])).toBe(true);
      expect(namesLargeFiles(['inspect', model], 2 * LARGE_INPUT_BYTES)).toBe(false);
      expect(namesLargeFiles(['inspect', join(dir, 'missing.onnx'), dir])).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
