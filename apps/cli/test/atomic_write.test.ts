/**
 * Atomic writes under SIGKILL: a child process rewrites a 16 MB model in a loop and is killed at
 * random moments; the target must then be a complete model (the last finished version or the one
 * being written), never a truncated file, and the input the child read must be unchanged.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFile } from '@whittle/onnx/node';
import { Rng } from '@whittle/tensor';
import { ZOO_DIR, cacheName } from '@whittle/testing/zoo';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'whittle-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const input = join(ZOO_DIR, cacheName('lenet300100'));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/**
 * Run the write loop; kill it during write number `afterStart`, at `fraction` of the time the
 * previous write took in the same process (so kills spread over encoding and file writing
 * whatever the machine's speed). Write 0 has no previous write: it is killed after `fraction`×100 ms.
 */
function killDuringWrite(target: string, afterStart: number, fraction: number): Promise<{ started: number; done: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@whittle/source', '--import', 'tsx', join(here, 'fixtures', 'write_loop.ts'), input, target], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let started = -1;
    let done = -1;
    let startedAt = 0;
    let lastWriteMs = 100;
    let err = '';
    let buf = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [what, k] = l.split(' ');
        if (what === 'start') {
          started = Number(k);
          startedAt = performance.now();
          if (started === afterStart) setTimeout(() => child.kill('SIGKILL'), fraction * lastWriteMs);
        } else if (what === 'done') {
          done = Number(k);
          lastWriteMs = performance.now() - startedAt;
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ started, done });
      else reject(new Error(`write loop exited with ${code}: ${err}`));
    });
  });
}

describe('atomic writes under SIGKILL', () => {
  it('the target is always a complete model (old or new version) and the input is untouched', async () => {
    const before = sha(input);
    const rng = new Rng(3);
    let midWrite = 0;
    // at least 4 trials (first write, and later ones at both alternating points), and more (up
    // to 24) until one kill has landed while the file was being written
    for (let trial = 0; trial < 24 && (trial < 4 || midWrite === 0); trial++) {
      const target = join(dir, `model-${trial}.onnx`);
      // trial 0 is killed during the very first write: there is no old file, so none may appear
      const afterStart = trial === 0 ? 0 : 1 + (trial % 2);
      const { started, done } = await killDuringWrite(target, afterStart, rng.uniform());
      const temps = readdirSync(dir).filter((f) => f.startsWith(`model-${trial}.onnx.tmp-`));
      if (started > done) midWrite += temps.length > 0 ? 1 : 0;
      if (done < 0) {
        expect(existsSync(target), `trial ${trial}: killed in the first write, yet a target exists`).toBe(false);
        continue;
      }
      const m = await readModelFile(target);
      const version = Number(m.metadataProps['version']);
      expect([done, started], `trial ${trial}: version ${version} after done=${done} started=${started}`).toContain(version);
      const w = m.graph.initializers.get('w')!.dataSync() as Float32Array;
      expect(createHash('sha256').update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)).digest('hex')).toBe(m.metadataProps['weights']);
    }
    // the kills did land inside writes (a temp file was left next to the target)
    expect(midWrite).toBeGreaterThan(0);
    expect(sha(input)).toBe(before);
  });
});
