import { PassOptionsError } from '../errors.js';

/** One documented option of a pass. */
export type OptionSpec =
  | { type: 'boolean'; description: string; default?: boolean; required?: boolean }
  | { type: 'number'; description: string; default?: number; min?: number; max?: number; integer?: boolean; required?: boolean }
  | { type: 'string'; description: string; default?: string; enum?: readonly string[]; required?: boolean }
  | { type: 'string[]'; description: string; default?: readonly string[]; required?: boolean }
  | { type: 'number[]'; description: string; default?: readonly number[]; required?: boolean }
  | { type: 'object'; description: string; default?: Record<string, unknown>; required?: boolean };

type ValueOf<S> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'number' }
    ? number
    : S extends { type: 'string'; enum: readonly (infer E)[] }
      ? E
      : S extends { type: 'string' }
        ? string
        : S extends { type: 'string[]' }
          ? string[]
          : S extends { type: 'number[]' }
            ? number[]
            : Record<string, unknown>;

/** The parsed options type of a spec: options with a default or `required` are always present. */
export type OptionsOf<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K] extends { default: unknown } | { required: true } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/**
 * What a caller may pass for options parsed as `O`: every option optional (defaults apply; a
 * `required` one is checked at run time), arrays also readonly.
 */
export type PassOptionsInput<O> = { [K in keyof O]?: O[K] extends (infer E)[] ? readonly E[] : O[K] };

/** A small validator for pass options (see {@link defineOptions}). */
export interface OptionsSchema<O> {
  readonly fields: Readonly<Record<string, OptionSpec>>;
  /** Validate `input` (unknown names rejected), apply defaults; throws {@link PassOptionsError}. */
  parse(input: unknown, pass: string): O;
  /** One line per option: `name (type, default …): description`. */
  describe(): string[];
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

function checkValue(name: string, spec: OptionSpec, v: unknown, pass: string): unknown {
  const bad = (want: string): never => {
    // NaN and ±Infinity are written as numbers (JSON would print null)
    const shown = typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
    throw new PassOptionsError(pass, `pass '${pass}': option '${name}' must be ${want}, got ${shown} (${typeName(v)})`);
  };
  switch (spec.type) {
    case 'boolean':
      return typeof v === 'boolean' ? v : bad('a boolean');
    case 'number': {
      if (typeof v !== 'number' || Number.isNaN(v)) return bad('a number');
      if (spec.integer && !Number.isInteger(v)) return bad('an integer');
      if (spec.min !== undefined && v < spec.min) return bad(`>= ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) return bad(`<= ${spec.max}`);
      return v;
    }
    case 'string':
      if (typeof v !== 'string') return bad('a string');
      if (spec.enum && !spec.enum.includes(v)) return bad(`one of ${spec.enum.map((e) => `'${e}'`).join(', ')}`);
      return v;
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...v] : bad('an array of strings');
    case 'number[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number') ? [...v] : bad('an array of numbers');
    case 'object':
      return v && typeof v === 'object' && !Array.isArray(v) ? v : bad('an object');
  }
}

/**
 * Declare a pass's options: each with a type, a description, and optionally a default, a range
 * (`min`/`max`/`integer` for numbers) or allowed values (`enum` for strings). The parsed options
 * type is inferred from the spec.
 *
 * @example
 * const schema = defineOptions({
 *   untie: { type: 'boolean', default: false, description: 'copy shared initializers' },
 * });
 */
export function defineOptions<const S extends Record<string, OptionSpec>>(spec: S): OptionsSchema<OptionsOf<S>> {
  return {
    fields: spec,
    parse(input: unknown, pass: string): OptionsOf<S> {
      if (input === undefined || input === null) input = {};
      if (typeof input !== 'object' || Array.isArray(input)) {
        throw new PassOptionsError(pass, `pass '${pass}': options must be an object, got ${typeName(input)}`);
      }
      const given = input as Record<string, unknown>;
      const unknown = Object.keys(given).filter((k) => !(k in spec));
      if (unknown.length) {
        const known = Object.keys(spec);
        throw new PassOptionsError(
          pass,
          `pass '${pass}': unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; ` +
            (known.length ? `known options: ${known.join(', ')}` : 'this pass takes no options'),
          unknown,
        );
      }
      const out: Record<string, unknown> = {};
      for (const [name, s] of Object.entries(spec)) {
        const v = given[name];
        if (v === undefined) {
          if (s.required) throw new PassOptionsError(pass, `pass '${pass}': option '${name}' is required (${s.description})`);
          if (s.default !== undefined) out[name] = Array.isArray(s.default) ? [...s.default] : s.default;
          continue;
        }
        out[name] = checkValue(name, s, v, pass);
      }
      return out as OptionsOf<S>;
    },
    describe(): string[] {
      return Object.entries(spec).map(([name, s]) => {
        const bits: string[] = [s.type];
        if (s.type === 'string' && s.enum) bits.push(`one of ${s.enum.join('|')}`);
        if (s.type === 'number' && (s.min !== undefined || s.max !== undefined)) bits.push(`range [${s.min ?? '-inf'}, ${s.max ?? 'inf'}]`);
        if (s.default !== undefined) bits.push(`default ${JSON.stringify(s.default)}`);
        if (s.required) bits.push('required');
        return `${name} (${bits.join(', ')}): ${s.description}`;
      });
    },
  };
}

/** Schema of a pass without options (any option given is rejected). */
export const NO_OPTIONS = defineOptions({});
