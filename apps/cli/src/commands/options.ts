import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { type Model, type OptionSpec, graphScopes, listOps } from '@whittle/graph';
import { UsageError } from '../errors.js';

/** `someOption` → `some-option`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function parser(name: string, spec: OptionSpec): ((v: string) => unknown) | undefined {
  const flag = `--${kebab(name)}`;
  switch (spec.type) {
    case 'number':
      return (v) => {
        const x = Number(v);
        if (v.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`${flag} must be a number, got '${v}'`);
        return x;
      };
    case 'number[]':
      return (v) =>
        v.split(',').map((p) => {
          const x = Number(p);
          if (p.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`${flag} must be comma-separated numbers, got '${v}'`);
          return x;
        });
    case 'string[]':
      return (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
    case 'object':
      return (v) => {
        try {
          const o = JSON.parse(v) as unknown;
          if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('not an object');
          return o;
        } catch {
          throw new InvalidArgumentError(`${flag} must be a JSON object, got '${v}'`);
        }
      };
    default:
      return undefined;
  }
}

/**
 * Add one flag per pass option (1:1 with the pass's schema: `fineTuneEpochs` → `--fine-tune-epochs`;
 * booleans as `--x` / `--no-x`; lists comma-separated; objects as JSON). Defaults stay the pass's
 * own, so only flags the user gives reach the pass.
 */
export function addPassOptions(cmd: Command, fields: Readonly<Record<string, OptionSpec>>): void {
  for (const [name, spec] of Object.entries(fields)) {
    const desc = `${spec.description}${spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : ''}${spec.type === 'string' && spec.enum ? ` [${spec.enum.join('|')}]` : ''}`;
    if (spec.type === 'boolean') {
      cmd.option(`--${kebab(name)}`, desc);
      cmd.option(`--no-${kebab(name)}`, `turn off ${kebab(name)}`);
    } else {
      const p = parser(name, spec);
      if (p) cmd.option(`--${kebab(name)} <value>`, desc, p);
      else cmd.option(`--${kebab(name)} <value>`, desc);
    }
  }
}

/** The pass options among parsed commander options (keys as in the schema). */
export function pickPassOptions(parsed: Record<string, unknown>, fields: Readonly<Record<string, OptionSpec>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(fields)) if (parsed[name] !== undefined) out[name] = parsed[name];
  return out;
}

/** Pass options that name op types (`ops`, `excludeOps`, `blockOps`, …). */
function isOpTypeList(name: string, spec: OptionSpec): boolean {
  return spec.type === 'string[]' && (name === 'ops' || name.endsWith('Ops'));
}

/**
 * Check the op types a user named (`--ops`, `--exclude-ops`, …) against the model's: a name that
 * differs from an op type (the model's or one the interpreter knows) only in case (`matmul`) is a typo that would silently
 * quantize or keep nothing of it, so it is refused with the right spelling; a name the model does
 * not hold at all is returned as a note (a list such as `MatMul,Gemm,Conv` is fine on a model
 * without Gemm).
 */
export function checkOpTypeOptions(model: Model, given: Record<string, unknown>, fields: Readonly<Record<string, OptionSpec>>): string[] {
  const present = new Set(graphScopes(model.graph).flatMap((s) => s.graph.nodes.map((n) => n.opType)));
  // the model's op types, then every op type the interpreter knows (`domain::Op`)
  const known = [...present, ...listOps().map((k) => k.slice(k.indexOf('::') + 2))];
  const byLower = new Map<string, string>();
  for (const t of known) if (!byLower.has(t.toLowerCase())) byLower.set(t.toLowerCase(), t);
  const notes: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const v = given[name];
    if (!isOpTypeList(name, spec) || !Array.isArray(v)) continue;
    const flag = `--${kebab(name)}`;
    const absent: string[] = [];
    for (const t of v as string[]) {
      if (present.has(t)) continue;
      const fix = byLower.get(t.toLowerCase());
      if (fix && fix !== t) throw new UsageError(`${flag}: op type '${t}' is spelled '${fix}' (op types are case-sensitive)`);
      absent.push(t);
    }
    if (absent.length) notes.push(`${flag}: the model has no ${absent.join(', ')} node${absent.length > 1 ? 's' : ''} (its op types: ${[...present].sort().join(', ')})`);
  }
  return notes;
}

/** Pass options that name nodes, their outputs or weights: `excludeNodes`, `blockNodes`, `include`, `exclude`, `layerSparsity` keys. */
function namedLayers(name: string, spec: OptionSpec, v: unknown): string[] | undefined {
  if (spec.type === 'string[]' && (name.endsWith('Nodes') || name === 'include' || name === 'exclude') && Array.isArray(v)) return v as string[];
  if (spec.type === 'object' && name === 'layerSparsity' && v && typeof v === 'object') return Object.keys(v);
  return undefined;
}

/**
 * Check the layer names a user gave (`--exclude-nodes`, `--include`, `--exclude`, `--layer-sparsity`)
 * against the model's node names, value names and weight names (subgraphs included): a misspelt
 * name otherwise matches nothing and the run compresses the very layer it was meant to keep.
 * Returned as notes, not errors: names may refer to what the front end makes of the graph.
 */
export function checkLayerNameOptions(model: Model, given: Record<string, unknown>, fields: Readonly<Record<string, OptionSpec>>): string[] {
  let names: Set<string> | undefined;
  const notes: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const v = namedLayers(name, spec, given[name]);
    if (!v?.length) continue;
    names ??= new Set(graphScopes(model.graph).flatMap((s) => [...s.graph.nodes.flatMap((n) => [n.name, ...n.outputs]), ...s.graph.initializers.keys(), ...s.graph.rawInitializers.keys()]));
    const absent = v.filter((t) => !names!.has(t));
    if (absent.length) notes.push(`--${kebab(name)}: the model has no node, value or weight named ${absent.map((t) => `'${t}'`).join(', ')} (see 'whittle inspect' for its layer names)`);
  }
  return notes;
}
