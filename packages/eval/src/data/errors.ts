import { WhittleError } from '@whittle/tensor';

/** Where bad data was found: the file and, when known, the sample (0-based, in reading order). */
export interface DataLocation {
  file?: string | undefined;
  sample?: number | undefined;
}

/**
 * Data that cannot be read or does not fit the model: an unreadable or truncated file, a shape,
 * element type or label count that does not match, a model input no file feeds. The message names
 * the file, the sample and the mismatch; `file` and `sample` carry them for programs.
 */
export class DataError extends WhittleError {
  readonly file: string | undefined;
  readonly sample: number | undefined;
  constructor(message: string, where: DataLocation = {}, options?: { cause?: unknown }) {
    const at = [where.file, where.sample !== undefined ? `sample ${where.sample}` : undefined].filter(Boolean).join(', ');
    super('E_DATA', at ? `${at}: ${message}` : message, options);
    this.file = where.file;
    this.sample = where.sample;
  }
}
