import '@whittle/tensor/node';
import { readFileSync } from 'node:fs';
import { readModel, readTensorProto } from '@whittle/onnx';
const d = process.argv[2]!;
const m = readModel(readFileSync(d + '/model.onnx'));
console.log(JSON.stringify(m.opsetImports), m.graph.inputs.map((i) => i.name + ':' + JSON.stringify(i.type)).join('\n'));
for (const n of m.graph.nodes) console.log(n.opType, n.inputs, n.outputs, JSON.stringify([...n.attributes].map(([k, v]) => [k, v.type === 'tensor' ? 'T' : v.value])));
for (let i = 0; i < 4; i++) { try { const t = readTensorProto(readFileSync(`${d}/test_data_set_0/input_${i}.pb`)) as any; console.log('in', i, t.dtype, t.shape, t.size < 40 ? Array.from(await t.toFloat64()) : ''); } catch { break; } }
for (const n of m.graph.nodes) for (const [k, a] of n.attributes) if (a.type === 'graph') { console.log('--', k, a.value.inputs.map((i) => i.name), '->', a.value.outputs.map((i) => i.name)); for (const bn of a.value.nodes) console.log('  ', bn.opType, bn.inputs, bn.outputs); }
