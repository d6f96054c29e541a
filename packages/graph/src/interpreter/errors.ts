import { WhittleError } from '@whittle/tensor';

/** The interpreter has no implementation for a node's op (or for the attribute combination). */
export class UnsupportedOpError extends WhittleError {
  constructor(message: string) {
    super('E_UNSUPPORTED_OP', message);
  }
}

/** Running a graph failed at a node (wraps the cause with the node's name and op). */
export class InterpreterError extends WhittleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INTERPRETER', message, options);
  }
}
