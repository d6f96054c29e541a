import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { cloneModel, defineOptions, definePass, getPass, registerPass, registerPasses, unregisterPass } from '@whittle/graph';
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import { PRUNE_PASSES } from '@whittle/prune/passes';
import { addTechniqueCommands } from '../src/commands/run_pass.js';

const sub = (c: Command, name: string): Command | undefined => c.commands.find((x) => x.name() === name);

const fooPass = definePass({
  specificationVersion: 'v1',
  name: 'prune-foo-test',
  description: 'A test pass.',
  cli: { group: 'prune', command: 'foo' },
  optionsSchema: defineOptions({ amount: { type: 'number', min: 0, max: 1, default: 0.5, description: 'how much' } }),
  async run(model) {
    return { model: cloneModel(model), report: { changed: false, summary: 'nothing' } };
  },
});

describe('CLI commands come from the passes (Pass.cli)', () => {
  it('every registered pass that declares a command gets it, in its group, with its options as flags', () => {
    const program = new Command('whittle');
    addTechniqueCommands(program);
    expect(sub(program, 'quantize')!.commands.map((c) => c.name()).sort()).toEqual(['awq', 'bnb4', 'cluster', 'dynamic', 'float16', 'gptq', 'hqq', 'mixed', 'qat', 'smooth', 'static', 'weights']);
    expect(sub(program, 'prune')!.commands.map((c) => c.name()).sort()).toEqual(['gradual', 'nm', 'sensitivity', 'sparsegpt', 'structured', 'unstructured']);
    expect(sub(program, 'factorize')!.commands.map((c) => c.name()).sort()).toEqual(['conv', 'linear', 'lowrank']);
    expect(sub(program, 'fine-tune')).toBeDefined();
    expect(sub(sub(program, 'quantize')!, 'smooth')!.description()).toContain("passes 'smooth-quant', 'quantize-static'");
  });

  it('a newly registered pass appears without editing the CLI: existing or new group', () => {
    registerPass(fooPass);
    const bar = { ...fooPass, name: 'shrink-bar-test', cli: { group: 'shrink', command: 'bar' } };
    registerPass(bar);
    try {
      const program = new Command('whittle');
      addTechniqueCommands(program);
      const foo = sub(sub(program, 'prune')!, 'foo')!;
      expect(foo.description()).toBe("A test pass. (pass 'prune-foo-test')");
      expect(foo.options.map((o) => o.long)).toContain('--amount');
      expect(sub(sub(program, 'shrink')!, 'bar')).toBeDefined();
      expect(sub(program, 'shrink')!.description()).toBe('shrink: bar');
    } finally {
      unregisterPass('prune-foo-test');
      unregisterPass('shrink-bar-test');
    }
  });

  it('the passes entry exports without registering; registering a package twice throws naming the pass', () => {
    expect(PRUNE_PASSES.map((p) => p.name)).toContain('prune-nm');
    expect(getPass('prune-nm')).toBe(PRUNE_PASSES.find((p) => p.name === 'prune-nm'));
    expect(() => registerPasses(PRUNE_PASSES)).toThrow(/a pass named 'prune-unstructured' is already registered/);
  });
});
