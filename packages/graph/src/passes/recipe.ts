import { parse as parseYaml } from 'yaml';
import { PassOptionsError, RecipeError, UnknownPassError } from '../errors.js';
import type { AnyPass } from './contract.js';
import { getPass, parsePassOptions } from './registry.js';

/** One step of a recipe. */
export interface RecipeStep {
  /** Registered pass name. */
  pass: string;
  /** Options for the pass (validated by its schema). */
  options?: Record<string, unknown>;
}

/** A recipe: an ordered list of passes with options. */
export interface Recipe {
  name?: string;
  description?: string;
  passes: RecipeStep[];
}

/** A recipe step with its pass resolved and options parsed. */
export interface ResolvedStep {
  index: number;
  pass: AnyPass;
  options: unknown;
  rawOptions: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Parse and check the structure of a recipe given as an object, a JSON string or a YAML string
 * (`{ name?, description?, passes: [{ pass, options? }] }`). Throws {@link RecipeError} naming the
 * step that is wrong.
 */
export function parseRecipe(input: string | Recipe | unknown): Recipe {
  let value: unknown = input;
  if (typeof input === 'string') {
    const text = input.trim();
    try {
      value = text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : parseYaml(text);
    } catch (e) {
      throw new RecipeError(`recipe is not valid ${text.startsWith('{') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, {}, e);
    }
  }
  if (!isObject(value)) throw new RecipeError(`recipe must be an object with a 'passes' list, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  const unknownKeys = Object.keys(value).filter((k) => !['name', 'description', 'passes'].includes(k));
  if (unknownKeys.length) throw new RecipeError(`recipe has unknown field(s) ${unknownKeys.map((k) => `'${k}'`).join(', ')}; allowed: name, description, passes`);
  if (value.name !== undefined && typeof value.name !== 'string') throw new RecipeError(`recipe 'name' must be a string`);
  if (value.description !== undefined && typeof value.description !== 'string') throw new RecipeError(`recipe 'description' must be a string`);
  if (!Array.isArray(value.passes)) throw new RecipeError(`recipe needs a 'passes' list of { pass, options } steps`);
  const passes = value.passes.map((s: unknown, i: number): RecipeStep => {
    if (typeof s === 'string') return { pass: s };
    if (!isObject(s)) throw new RecipeError(`recipe step ${i}: must be an object { pass, options }, got ${Array.isArray(s) ? 'a list' : typeof s}`, { step: i });
    const extra = Object.keys(s).filter((k) => k !== 'pass' && k !== 'options');
    if (typeof s.pass !== 'string' || !s.pass) throw new RecipeError(`recipe step ${i}: 'pass' must be a non-empty string (the pass name)`, { step: i });
    if (extra.length) throw new RecipeError(`recipe step ${i} (pass '${s.pass}'): unknown field(s) ${extra.map((k) => `'${k}'`).join(', ')}; a step has 'pass' and 'options'`, { step: i, pass: s.pass });
    if (s.options !== undefined && s.options !== null && !isObject(s.options)) {
      throw new RecipeError(`recipe step ${i} (pass '${s.pass}'): 'options' must be an object`, { step: i, pass: s.pass });
    }
    return s.options ? { pass: s.pass, options: s.options as Record<string, unknown> } : { pass: s.pass };
  });
  const r: Recipe = { passes };
  if (typeof value.name === 'string') r.name = value.name;
  if (typeof value.description === 'string') r.description = value.description;
  return r;
}

/** Resolve one step: look the pass up (unless given as an object) and parse its options. */
export function resolveStep(pass: string | AnyPass, options: Record<string, unknown> | undefined, index: number): ResolvedStep {
  const name = typeof pass === 'string' ? pass : pass.name;
  let p: AnyPass;
  try {
    p = typeof pass === 'string' ? getPass(pass) : pass;
  } catch (e) {
    if (e instanceof UnknownPassError) throw new RecipeError(`recipe step ${index}: ${e.message}`, { step: index, pass: name }, e);
    throw e;
  }
  try {
    return { index, pass: p, options: parsePassOptions(p, options ?? {}), rawOptions: options ?? {} };
  } catch (e) {
    if (e instanceof PassOptionsError) throw new RecipeError(`recipe step ${index}: ${e.message}`, { step: index, pass: name }, e);
    throw e;
  }
}

/** Resolve every step's pass and validate its options (before anything runs). */
export function resolveRecipe(recipe: Recipe): ResolvedStep[] {
  return recipe.passes.map((s, index) => resolveStep(s.pass, s.options, index));
}
