/** Write a NumPy .npy (version 1.0) file, for tests that feed the page user data. */
export function writeNpy(data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Float64Array, shape: readonly number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : data instanceof Int32Array ? '<i4' : data instanceof BigInt64Array ? '<i8' : '|u1';
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // header (magic 6 + version 2 + length 2 + dict + newline) padded to a multiple of 64
  const pad = 64 - ((10 + dict.length + 1) % 64);
  dict += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
