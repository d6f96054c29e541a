/** Encoded models own their buffer: small ones are not views into a slab other writes share. */
import { describe, expect, it } from 'vitest';
import { tensor } from '@whittle/tensor';
import { GraphBuilder } from '@whittle/graph';
import { readModel, writeModel } from '../src/index.js';

function tinyModel(k: number) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 4]);
  const w = b.initializer('w', tensor(Float32Array.from({ length: 16 }, (_, i) => i + k), [4, 4], 'float32', { backend: 'cpu' }));
  b.output(b.node('MatMul', [x, w]), 'float32', [1, 4]);
  return b.model();
}

describe('writeModel buffers', () => {
  it('a model of a few hundred bytes fills its own ArrayBuffer', () => {
    const bytes = writeModel(tinyModel(0));
    expect(bytes.length).toBeLessThan(1000);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });

  it('transferring an encoded model to another thread leaves later writes and reads working', () => {
    const first = writeModel(tinyModel(0));
    const moved = structuredClone(first, { transfer: [first.buffer] });
    expect(first.buffer.byteLength).toBe(0); // detached here
    const second = writeModel(tinyModel(1));
    expect(readModel(second).graph.initializers.get('w')!.dataSync()[0]).toBe(1);
    expect(readModel(moved).graph.initializers.get('w')!.dataSync()[15]).toBe(15);
  });
});
