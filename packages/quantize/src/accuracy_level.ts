import { type Model, graphScopes } from '@whittle/graph';

/**
 * Set `accuracy_level` on every com.microsoft MatMulNBits node of the model (all graphs): the
 * minimum compute precision onnxruntime may use for the activations — 0 unset (the kernel's
 * default), 1 float32, 2 float16, 3 bfloat16, 4 int8 (on CPU the activations are quantized per
 * block to int8 and the product runs on integer instructions: the fastest CPU path). Returns how
 * many nodes were set.
 */
export function setMatMulNBitsAccuracyLevel(model: Model, level: number): number {
  let n = 0;
  for (const { graph } of graphScopes(model.graph)) {
    for (const node of graph.nodes) {
      if (node.opType !== 'MatMulNBits' || node.domain !== 'com.microsoft') continue;
      node.attributes.set('accuracy_level', { type: 'int', value: level });
      n++;
    }
  }
  return n;
}
