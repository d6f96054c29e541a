import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { OptionSpec } from '@whittle/graph';

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
