import { ArgumentError } from '@whittle/tensor';
import type { Model } from './types.js';

/**
 * Throw an {@link ArgumentError} when `value` is not a {@link Model}, saying how to get one: the
 * bytes of a file are decoded with readModel, a path is read with readModelFile.
 */
export function assertModel(value: unknown, where: string): asserts value is Model {
  if (value && typeof value === 'object' && 'graph' in value && 'opsetImports' in value) return;
  const what = value instanceof Uint8Array || value instanceof ArrayBuffer
    ? 'the bytes of a file (decode them with readModel from @whittle/onnx)'
    : typeof value === 'string' ? 'a string (read the file with readModelFile from @whittle/onnx/node)' : value === null ? 'null' : typeof value;
  throw new ArgumentError(`${where}: expected a Model, got ${what}`);
}
