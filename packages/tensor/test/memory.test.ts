import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { add, mulScalar, setBackend, tensor } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('cpu tensor memory', () => {
  it('temporaries of a loop that only awaits microtasks are collectable (no finalization backlog)', async () => {
    await setBackend('cpu');
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const x = tensor(new Float32Array(2 ** 21).fill(1), [2 ** 21]); // 8 MB
    let acc = 0;
    for (let i = 0; i < 60; i++) {
      // 60 x 2 temporaries of 8 MB: ~1 GB if anything keeps them alive
      const y = add(mulScalar(x, 2), x);
      acc += (await y.data())[i]! as number; // a resolved await: no macrotask runs in between
    }
    gc();
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(acc).toBe(180);
    expect(grown, `array buffers grew by ${(grown / 2 ** 20).toFixed(0)} MB`).toBeLessThan(100 * 2 ** 20);
  });
});
