import { WhittleError } from '@whittle/tensor';

/** A command-line usage problem (bad flag value, missing argument): exit code 2. */
export class UsageError extends WhittleError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/** Exit code for an error: 2 for usage errors, 1 for everything else. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError ? 2 : 1;
}
