import { readModelFile } from '@whittle/onnx/node';
import { runModel } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { float16ToFloat32Array } from '@whittle/tensor/float16';
const dirp = '/tmp/whittle-tjs-llama-4wvaIZ/models/llama/onnx/';
const ids = [3, 7, 11, 5, 9, 12];
const S = ids.length;
async function go(f: string, half: boolean) {
  const m = await readModelFile(dirp + f);
  const feeds: Record<string, any> = {
    input_ids: tensor(BigInt64Array.from(ids.map(BigInt)), [1, S], 'int64'),
    attention_mask: tensor(BigInt64Array.from(ids.map(() => 1n)), [1, S], 'int64'),
    position_ids: tensor(BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, S], 'int64'),
  };
  for (let i = 0; i < 2; i++) for (const kv of ['key', 'value']) feeds['past_key_values.' + i + '.' + kv] = half ? tensor(new Uint16Array(0), [1, 2, 0, 16], 'float16') : tensor(new Float32Array(0), [1, 2, 0, 16], 'float32');
  const fetch = m.graph.nodes.filter(n => n.opType !== 'Constant').flatMap(n => n.outputs).filter(Boolean);
  const out = await runModel(m, feeds, { fetch });
  const vals = new Map<string, number[]>();
  for (const [k, v] of out) { if (v.dtype === 'float32') vals.set(k, Array.from(await v.data() as Float32Array)); if (v.dtype === 'float16') vals.set(k, Array.from(float16ToFloat32Array(await v.data() as Uint16Array))); }
  return { vals, order: m.graph.nodes.map(n => [n.name, n.opType, n.outputs[0]!] as const) };
}
const a = await go('model.onnx', false);
const b = await go(process.argv[2] ?? 'model_fp16.onnx', true);
let shown = 0;
for (const [name, op, o] of a.order) {
  const x = a.vals.get(o), y = b.vals.get(o);
  if (!x || !y || x.length !== y.length) continue;
  let err = 0, mx = 0; for (let i = 0; i < x.length; i++) { err = Math.max(err, Math.abs(x[i]! - y[i]!)); mx = Math.max(mx, Math.abs(x[i]!)); }
  if ((err / (mx || 1) > 0.02 || !Number.isFinite(err)) && shown++ < 12) console.log(op, name, 'maxabs', mx.toExponential(2), 'err', err.toExponential(2));
}
