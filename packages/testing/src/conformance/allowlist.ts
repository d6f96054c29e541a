import type { BackendName } from '@whittle/tensor';
import type { CaseResult } from './runner.js';

/** Path of a backend's allowlist file. */
export function allowlistPath(backend: BackendName): string {
  return new URL(`./allowlist.${backend}.json`, import.meta.url).pathname;
}

/** A human reason for excluding a failing case (keeps a hand-written reason when there is one). */
export function reasonFor(r: CaseResult, previous?: string): string {
  if (previous && !previous.startsWith('auto:')) return previous;
  const c = r.category ?? 'error';
  if (c.startsWith('unsupported op')) return `${c}`;
  if (c.startsWith('dtype ')) return `${c} is not a Whittle compute dtype`;
  if (c === 'non-tensor types') return 'sequence/optional/map values are not supported';
  return `${c}: ${(r.reason ?? '').slice(0, 200)}`;
}
