/**
 * Base class of every error Whittle throws on purpose. `code` is stable and machine-readable;
 * the message says what is wrong, where, and what to do about it.
 */
export class WhittleError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the operation (broadcast, matmul inner dims, bad axis, …). */
export class ShapeError extends WhittleError {
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}

/** A dtype the operation does not accept, or mixed dtypes where one is required. */
export class DTypeError extends WhittleError {
  constructor(message: string) {
    super('E_DTYPE', message);
  }
}

/** A backend problem: none available, mixing backends, sync read on GPU, no kernel registered. */
export class BackendError extends WhittleError {
  constructor(message: string) {
    super('E_BACKEND', message);
  }
}

/** An argument outside its documented domain (negative size, unknown option, …). */
export class ArgumentError extends WhittleError {
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** A numeric failure (matrix not positive definite, SVD did not converge, …). */
export class NumericError extends WhittleError {
  constructor(message: string) {
    super('E_NUMERIC', message);
  }
}

/** A kernel or gradient registered twice under one name (and backend). */
export class RegistrationError extends WhittleError {
  constructor(message: string) {
    super('E_REGISTRATION', message);
  }
}
