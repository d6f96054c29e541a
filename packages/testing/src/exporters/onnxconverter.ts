/**
 * The layout onnxconverter-common's `convert_float_to_float16(model, keep_io_types=True)` writes
 * (the usual way `model_fp16.onnx` files and fp16 segmentation/vision models are made): float
 * weights become float16, float32 graph inputs and outputs stay float32 through Cast nodes named
 * `graph_input_cast{i}` / `graph_output_cast{i}` — and those Casts are appended at the END of the
 * node list, after the nodes that read them. ONNX requires topological order; onnxruntime sorts on
 * load, so such files run there and ship (e.g. the ISNet background-removal model on npm).
 */
import { type Graph, type Model, cloneModel, isRawTensor } from '@whittle/graph';
import { type Tensor, float32ToFloat16Bits, tensor } from '@whittle/tensor';

/**
 * `model` (float32) as onnxconverter-common's float16 converter with `keep_io_types` writes it:
 * float32 initializers and Constant values as float16, Cast nodes for float32 inputs/outputs appended after every
 * other node (so the graph is out of topological order), value_info dropped.
 */
export function float16ConverterLayout(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const half = (t: Tensor): Tensor => {
    const src = t.dataSync() as Float32Array;
    const bits = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) bits[i] = float32ToFloat16Bits(src[i]!);
    return tensor(bits, [...t.shape], 'float16', { backend: 'cpu' });
  };
  for (const [name, t] of g.initializers) if (t.dtype === 'float32') g.initializers.set(name, half(t));
  for (const n of g.nodes) {
    const v = n.opType === 'Constant' ? n.attributes.get('value') : undefined;
    if (v?.type === 'tensor' && !isRawTensor(v.value) && v.value.dtype === 'float32') n.attributes.set('value', { type: 'tensor', value: half(v.value) });
  }
  g.valueInfo.clear();
  const appended: Graph['nodes'] = [];
  g.inputs.forEach((input, i) => {
    if (input.type?.kind !== 'tensor' || input.type.elemType !== 'float32') return;
    const cast = `graph_input_cast_${i}`;
    for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === input.name ? cast : x));
    appended.push({ opType: 'Cast', domain: '', name: `graph_input_cast${i}`, inputs: [input.name], outputs: [cast], attributes: new Map([['to', { type: 'int', value: 10 }]]) });
  });
  g.outputs.forEach((output, i) => {
    if (output.type?.kind !== 'tensor' || output.type.elemType !== 'float32') return;
    const cast = `graph_output_cast_${i}`;
    for (const n of g.nodes) n.outputs = n.outputs.map((x) => (x === output.name ? cast : x));
    appended.push({ opType: 'Cast', domain: '', name: `graph_output_cast${i}`, inputs: [cast], outputs: [output.name], attributes: new Map([['to', { type: 'int', value: 1 }]]) });
  });
  g.nodes.push(...appended);
  m.producerName = 'onnxmltools';
  return m;
}
