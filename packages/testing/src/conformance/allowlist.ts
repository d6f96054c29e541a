import type { BackendName } from '@whittle/tensor';
import type { CaseResult } from './runner.js';

/** Path of a backend's allowlist file. */
export function allowlistPath(backend: BackendName): string {
  return new URL(`./allowlist.${backend}.json`, import.meta.url).pathname;
}

/**
 * A human reason for excluding a failing case, derived from how it failed (a previous
 * hand-written reason is kept).
 */
export function reasonFor(r: CaseResult, previous?: string): string {
  if (previous) return previous;
  const c = r.category ?? 'error';
  const msg = (r.reason ?? '').replace(/^node \S* ?\(([^)]*)\)( failed)?: /, '$1: ');
  if (c.startsWith('unsupported op')) return `${c.replace('unsupported op ', 'unsupported op: ')} (no interpreter implementation)`;
  if (c.startsWith('dtype ')) return `${c.slice(6)} tensors: not a Whittle compute dtype`;
  if (c === 'non-tensor types') return 'sequence/optional/map values are not supported';
  if (/3-D spatial/.test(msg)) return '3-D spatial op: the interpreter runs 1-D and 2-D';
  if (/ONNX element type 11/.test(msg)) return 'expanded function casts to float64: not a Whittle compute dtype';
  if (/training_mode/.test(msg)) return 'Dropout training_mode is random (not reproducible)';
  return `${c === 'mismatch' ? 'numeric mismatch' : 'not supported'}: ${msg.slice(0, 160)}`;
}
