/** The value of a Constant node, whichever attribute carries it. */
import { engine, type Tensor } from '@whittle/tensor';
import type { Node, RawTensor } from '@whittle/graph';
import { utf8Bytes } from './wire.js';

/**
 * The tensor a `Constant` node produces: its `value` tensor, or `value_float(s)` as float32,
 * `value_int(s)` as int64, `value_string(s)` as a string RawTensor. Undefined for other nodes and
 * for `sparse_value` (kept as a raw attribute).
 */
export function constantValue(node: Node): Tensor | RawTensor | undefined {
  if (node.opType !== 'Constant' || (node.domain !== '' && node.domain !== 'ai.onnx')) return undefined;
  for (const [name, a] of node.attributes) {
    if (name === 'value' && a.type === 'tensor') return a.value;
    if (name === 'value_float' && a.type === 'float') return engine().fromStorage('float32', [], Float32Array.of(a.value), 'cpu');
    if (name === 'value_floats' && a.type === 'floats') return engine().fromStorage('float32', [a.value.length], Float32Array.from(a.value), 'cpu');
    if (name === 'value_int' && a.type === 'int') return engine().fromStorage('int64', [], BigInt64Array.of(BigInt(a.value)), 'cpu');
    if (name === 'value_ints' && a.type === 'ints') {
      return engine().fromStorage('int64', [a.value.length], BigInt64Array.from(a.value, (v) => BigInt(v)), 'cpu');
    }
    if (name === 'value_string' && a.type === 'string') return { dataType: 'string', dims: [], strings: [a.bytes ?? utf8Bytes(a.value)] };
    if (name === 'value_strings' && a.type === 'strings') return { dataType: 'string', dims: [a.value.length], strings: a.value.map(utf8Bytes) };
  }
  return undefined;
}
