import { describe, expect, it } from 'vitest';
import * as root from '@whittle/graph';
import * as ir from '@whittle/graph/ir';
import * as passes from '@whittle/graph/passes';
import * as interpreter from '@whittle/graph/interpreter';
import * as train from '@whittle/graph/train';

describe('@whittle/graph subpath entries', () => {
  it('each entry holds its part and the root re-exports every export of every entry', () => {
    expect(typeof ir.cloneModel).toBe('function');
    expect(typeof ir.replaceNode).toBe('function');
    expect(typeof ir.inferValueTypes).toBe('function');
    expect(typeof passes.definePass).toBe('function');
    expect(typeof passes.foldConstants).toBe('function');
    expect(typeof interpreter.runModel).toBe('function');
    expect(interpreter.listOps()).toContain('::Conv');
    expect(typeof train.GraphModule).toBe('function');
    const r = root as Record<string, unknown>;
    for (const [name, mod] of Object.entries({ ir, passes, interpreter, train })) {
      for (const [k, v] of Object.entries(mod)) expect(r[k], `${name}.${k}`).toBe(v);
    }
    const all = new Set([ir, passes, interpreter, train].flatMap((m) => Object.keys(m)));
    expect(Object.keys(root).filter((k) => !all.has(k))).toEqual([]);
  });
});
