import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendName, Tensor } from '@whittle/tensor';
import { WhittleError, engine } from '@whittle/tensor';
import { readModel, readValueProto, isRawTensor, type OnnxValue } from '@whittle/onnx';
import type { Model, ValueType } from '@whittle/graph';
import { isOptional, isSequence, isStrings, isTensor, kindOf, runModelValues, tensorsOf, UnsupportedOpError, type RuntimeStrings, type RuntimeValue } from './graph_api.js';
import { compareTensors } from './compare.js';

/** Where the onnx/onnx v1.22.0 node test cases live (override with WHITTLE_ONNX_NODE_TESTS). */
export const DEFAULT_CASES_DIR = process.env.WHITTLE_ONNX_NODE_TESTS ?? new URL('../../../../../shared/onnx-node-tests', import.meta.url).pathname;

/** An allowlist: every EXCLUDED case with the reason it cannot pass. */
export interface Allowlist {
  /** Free text: what the list is, how it was made. */
  comment?: string;
  /** Cases the vitest test runs (all when absent), e.g. a representative subset on slow backends. */
  subset?: string[];
  excluded: Record<string, string>;
}

export type CaseStatus = 'pass' | 'fail' | 'excluded';

export interface CaseResult {
  name: string;
  status: CaseStatus;
  /** Why it failed (or why it is excluded). */
  reason?: string;
  /** For a failed case: a short classification used to write allowlist reasons. */
  category?: string;
  /** An excluded case that nevertheless passes now (the allowlist entry can go). */
  passesAnyway?: boolean;
  ms: number;
}

export interface ConformanceOptions {
  backend: BackendName;
  /** Case names (regexp or predicate) to consider; default all. */
  filter?: RegExp | ((name: string) => boolean);
  allowlist?: Allowlist;
  /** Also run excluded cases (to find entries that could be removed). Default false. */
  runExcluded?: boolean;
  dir?: string;
  /** Per-case progress. */
  onCase?: (r: CaseResult) => void;
}

export interface ConformanceReport {
  backend: BackendName;
  results: CaseResult[];
  counts: { pass: number; fail: number; excluded: number; total: number };
}

/** Names of every case folder (test_*) in `dir`. */
export function listCases(dir = DEFAULT_CASES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith('test_'))
    .map((d) => d.name)
    .sort();
}

class CaseError extends Error {
  constructor(
    readonly category: string,
    message: string,
  ) {
    super(message);
  }
}

function readPbs(dir: string, prefix: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; existsSync(join(dir, `${prefix}_${i}.pb`)); i++) out.push(readFileSync(join(dir, `${prefix}_${i}.pb`)));
  return out;
}

function nonTensorValue(model: Model): string | undefined {
  for (const v of [...model.graph.inputs, ...model.graph.outputs]) {
    if (v.type && v.type.kind !== 'tensor' && v.type.kind !== 'sequence' && v.type.kind !== 'optional') return `${v.type.kind} value '${v.name}'`;
  }
  return undefined;
}

/** A decoded .pb value as the interpreter's runtime value (tensors, sequences of tensors, optionals). */
function asValue(v: OnnxValue, what: string): RuntimeValue {
  if (!('kind' in v)) {
    if (!isRawTensor(v)) return v;
    // string tensors are host values for the ops that take them (Equal); other raw types are not computed with
    if (v.dataType === 'string' && v.strings) return { kind: 'strings', shape: [...v.dims], values: v.strings };
    throw new CaseError(`dtype ${v.dataType}`, `${what} has element type ${v.dataType}, which Whittle does not compute with`);
  }
  if (v.kind === 'sequence') {
    return { kind: 'sequence', items: v.values.map((e, i) => asValue(e, `${what} item ${i}`)).map((e) => (isTensor(e) ? e : notSupported(what))) };
  }
  if (v.kind === 'optional') {
    const inner = v.value === null ? null : asValue(v.value, `${what} element`);
    return { kind: 'optional', value: isOptional(inner ?? undefined) ? notSupported(what) : (inner as Exclude<RuntimeValue, { kind: 'optional' }> | null) };
  }
  return notSupported(`${what} (${v.kind})`);
}

function notSupported(what: string): never {
  throw new CaseError('non-tensor types', `${what} nests values the interpreter does not support`);
}

/** Why two string tensors differ (null when shapes and every byte match). */
function compareStrings(got: RuntimeStrings, want: RuntimeStrings): string | null {
  if (got.shape.join(',') !== want.shape.join(',')) return `shape [${got.shape.join(',')}], expected [${want.shape.join(',')}]`;
  const i = want.values.findIndex((w, k) => { const g = got.values[k]!; return g.length !== w.length || g.some((b, j) => b !== w[j]); });
  return i < 0 ? null : `string ${i} differs`;
}

/** Why `got` differs from `want` (null when they match): same kind, length/presence, then tensors. */
async function compareValues(got: RuntimeValue, want: RuntimeValue): Promise<string | null> {
  if (isSequence(want) || isOptional(want)) {
    if (!(isSequence(want) ? isSequence(got) : isOptional(got))) return `expected a ${isSequence(want) ? 'sequence' : 'optional'}, got ${isSequence(got) ? 'a sequence' : isOptional(got) ? 'an optional' : 'a tensor'}`;
    const w = tensorsOf(want);
    const g = tensorsOf(got);
    if (isOptional(want) && isOptional(got) && (want.value === null) !== (got.value === null)) return `expected an ${want.value ? 'non-empty' : 'empty'} optional`;
    if (w.length !== g.length) return `expected ${w.length} tensors, got ${g.length}`;
    for (let i = 0; i < w.length; i++) {
      const why = await compareTensors(g[i]!, w[i]!);
      if (why) return `item ${i}: ${why}`;
    }
    return null;
  }
  if (isStrings(want)) return isStrings(got) ? compareStrings(got, want) : `expected a string tensor, got ${kindOf(got)}`;
  if (!isTensor(got)) return `expected a tensor, got ${kindOf(got)}`;
  return compareTensors(got, want as Tensor);
}

/** Run one case; throws CaseError (with a category) when it does not pass. */
export async function runCase(caseDir: string, backend: BackendName): Promise<void> {
  const model = (() => {
    try {
      return readModel(readFileSync(join(caseDir, 'model.onnx')));
    } catch (e) {
      throw new CaseError('model read', `readModel: ${(e as Error).message}`);
    }
  })();
  const nt = nonTensorValue(model);
  if (nt) throw new CaseError('non-tensor types', `the model has a ${nt} (sequence/optional/map types are not supported)`);
  const raw = [...model.graph.rawInitializers.values()][0];
  if (raw) throw new CaseError(`dtype ${raw.dataType}`, `an initializer has element type ${raw.dataType}, which Whittle does not compute with`);
  const data = join(caseDir, 'test_data_set_0');
  const feedValues = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name));
  const typeOf = (v: { type: ValueType | null } | undefined): ValueType | null => v?.type ?? null;
  const inputs = readPbs(data, 'input').map((b, i) => asValue(readValueProto(b, typeOf(feedValues[i] ?? model.graph.inputs[i])), `input ${i}`));
  const expected = readPbs(data, 'output').map((b, i) => asValue(readValueProto(b, typeOf(model.graph.outputs[i])), `output ${i}`));
  const feeds = new Map<string, RuntimeValue>();
  inputs.forEach((t, i) => {
    const name = feedValues[i]?.name ?? model.graph.inputs[i]?.name;
    if (name) feeds.set(name, t);
  });
  let outs: Map<string, RuntimeValue>;
  try {
    outs = await runModelValues(model, feeds, { backend });
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    if (e instanceof UnsupportedOpError || cause instanceof UnsupportedOpError) {
      const m = /implementation of ([\w.]+)/.exec((e as Error).message);
      throw new CaseError(m ? `unsupported op ${m[1]}` : 'unsupported attributes', (e as Error).message);
    }
    const msg = e instanceof Error ? e.message : String(e);
    const cls = e instanceof WhittleError ? (cause instanceof Error ? cause.constructor.name : e.constructor.name) : 'Error';
    if (process.env.WHITTLE_CONFORMANCE_DEBUG) console.error(e);
    throw new CaseError(`error ${cls}`, msg);
  }
  for (let i = 0; i < expected.length; i++) {
    const name = model.graph.outputs[i]!.name;
    const got = outs.get(name);
    if (!got) throw new CaseError('missing output', `output '${name}' was not produced`);
    const why = await compareValues(got, expected[i]!);
    if (why) throw new CaseError('mismatch', `output ${i} '${name}': ${why}`);
  }
  for (const v of outs.values()) for (const t of tensorsOf(v)) t.dispose();
}

/**
 * Run the ONNX node test cases on one backend. A case in the allowlist is `excluded` (not
 * run unless `runExcluded`); every other case must pass.
 */
export async function runConformance(opts: ConformanceOptions): Promise<ConformanceReport> {
  const dir = opts.dir ?? DEFAULT_CASES_DIR;
  const f = opts.filter;
  const pick = !f ? () => true : typeof f === 'function' ? f : (n: string) => f.test(n);
  const excluded = opts.allowlist?.excluded ?? {};
  const results: CaseResult[] = [];
  if (opts.backend !== 'cpu') await engine().initBackend(opts.backend);
  for (const name of listCases(dir).filter(pick)) {
    const why = excluded[name];
    const t0 = performance.now();
    let r: CaseResult;
    if (why !== undefined && !opts.runExcluded) {
      r = { name, status: 'excluded', reason: why, ms: 0 };
    } else {
      try {
        await runCase(join(dir, name), opts.backend);
        r = why !== undefined ? { name, status: 'excluded', reason: why, passesAnyway: true, ms: 0 } : { name, status: 'pass', ms: 0 };
      } catch (e) {
        const category = e instanceof CaseError ? e.category : 'error';
        const reason = e instanceof Error ? e.message : String(e);
        r = why !== undefined ? { name, status: 'excluded', reason: why, ms: 0 } : { name, status: 'fail', reason, category, ms: 0 };
      }
    }
    r.ms = performance.now() - t0;
    results.push(r);
    opts.onCase?.(r);
  }
  const count = (s: CaseStatus): number => results.filter((r) => r.status === s).length;
  return { backend: opts.backend, results, counts: { pass: count('pass'), fail: count('fail'), excluded: count('excluded'), total: results.length } };
}

/** Read an allowlist JSON file. */
export function loadAllowlist(path: string): Allowlist {
  return JSON.parse(readFileSync(path, 'utf8')) as Allowlist;
}
