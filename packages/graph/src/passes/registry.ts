import { ArgumentError } from '@whittle/tensor';
import { UnknownPassError } from '../errors.js';
import type { Model } from '../ir/types.js';
import { assertModel } from '../ir/assert_model.js';
import { BUILTIN_PASSES } from '../normalize/builtins.js';
import { type PassContextInit, createPassContext, throwIfAborted } from './context.js';
import type { AnyPass, Pass, PassCli, PassResult } from './contract.js';
import { NO_OPTIONS, type OptionSpec, type PassOptionsInput } from './options.js';

const passes = new Map<string, AnyPass>();
let seeded = false;

function ensureBuiltins(): void {
  if (seeded) return;
  seeded = true;
  for (const p of BUILTIN_PASSES) if (!passes.has(p.name)) passes.set(p.name, p);
}

/**
 * Register a pass under its name (recipes, the CLI and the playground find it there). A second
 * pass with the same name throws unless `replace` is set.
 */
export function registerPass(pass: AnyPass, opts: { replace?: boolean } = {}): void {
  ensureBuiltins();
  if (pass.specificationVersion !== 'v1') {
    throw new ArgumentError(`registerPass: pass '${pass.name}' has specificationVersion '${String(pass.specificationVersion)}'; this runner supports 'v1'`);
  }
  if (!pass.name || !/^[a-z0-9][a-z0-9._:/-]*$/.test(pass.name)) {
    throw new ArgumentError(`registerPass: invalid pass name '${pass.name}' (use lower-case kebab-case, e.g. 'fold-batchnorm')`);
  }
  if (passes.has(pass.name) && !opts.replace) {
    throw new ArgumentError(`registerPass: a pass named '${pass.name}' is already registered (pass { replace: true } to override)`);
  }
  passes.set(pass.name, pass);
}

/**
 * Register a package's passes: what a technique package's registering entry calls once. Any
 * name already registered throws (a package registered twice, or two packages claiming a name).
 */
export function registerPasses(list: readonly AnyPass[]): void {
  for (const p of list) registerPass(p);
}

/** Remove a registered pass (mainly for tests). Returns whether it was registered. */
export function unregisterPass(name: string): boolean {
  ensureBuiltins();
  return passes.delete(name);
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** Registered names close to `name` (edit distance or substring), best first. */
export function closePassNames(name: string, max = 3): string[] {
  ensureBuiltins();
  const n = name.toLowerCase();
  return [...passes.keys()]
    .map((k) => ({ k, d: k.includes(n) || n.includes(k) ? 0.5 : distance(n, k) }))
    .filter(({ k, d }) => d <= Math.max(2, Math.floor(k.length / 3)))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, max)
    .map(({ k }) => k);
}

/** The pass registered under `name`; throws {@link UnknownPassError} listing close names. */
export function getPass(name: string): AnyPass {
  ensureBuiltins();
  const p = passes.get(name);
  if (!p) throw new UnknownPassError(name, closePassNames(name), [...passes.keys()].sort());
  return p;
}

/** True when a pass is registered under `name`. */
export function hasPass(name: string): boolean {
  ensureBuiltins();
  return passes.has(name);
}

/** Registered passes with their descriptions and documented options, sorted by name. */
export function listPasses(): { name: string; description: string; options: Record<string, OptionSpec>; cli?: PassCli }[] {
  ensureBuiltins();
  return [...passes.values()]
    .map((p) => ({ name: p.name, description: p.description, options: { ...(p.optionsSchema?.fields ?? {}) }, ...(p.cli ? { cli: p.cli } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Run one pass (by object or registered name) on `model`: options are validated by its schema
 * (unknown options throw PassOptionsError), the context gets defaults. Given the pass object,
 * the options are typed by its schema (`runPass(quantizeWeightsPass, m, { bits: 4 })`); by name
 * they are checked at run time only.
 */
export async function runPass<O>(pass: Pass<O>, model: Model, options?: PassOptionsInput<O>, ctx?: PassContextInit): Promise<PassResult>;
export async function runPass(pass: string, model: Model, options?: Record<string, unknown>, ctx?: PassContextInit): Promise<PassResult>;
export async function runPass<O>(
  pass: Pass<O> | string,
  model: Model,
  options?: PassOptionsInput<O> | Record<string, unknown>,
  ctx: PassContextInit = {},
): Promise<PassResult> {
  const p = (typeof pass === 'string' ? getPass(pass) : pass) as Pass<O>;
  assertModel(model, `runPass('${p.name}')`);
  const opts = parsePassOptions(p, options);
  throwIfAborted(ctx.signal, `pass '${p.name}'`);
  return p.run(model, createPassContext(ctx, opts));
}

/** Validate options for a pass (a pass without schema accepts no options). */
export function parsePassOptions<O>(p: Pass<O>, options: unknown): O {
  return (p.optionsSchema ?? NO_OPTIONS).parse(options, p.name) as O;
}
