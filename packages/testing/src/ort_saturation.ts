/**
 * Does this machine's onnxruntime (CPU) saturate uint8×int8 products? On x86 CPUs with AVX2 or
 * AVX-512 but without VNNI, MLAS adds pairs of u8·s8 products in int16 (vpmaddubsw) and clips at
 * 32767, so int8 weights using the full range give wrong MatMulInteger/QLinearConv/QGemm results
 * there (onnxruntime's documented reason for reduce_range). Tests that compare full-range int8
 * models with their float originals in onnxruntime quantize with 7-bit weights on such machines.
 */
import { GraphBuilder } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';

/** y = MatMulInteger(a [4, K] uint8, B [K, 1] int8 all 127). */
function probeModel(K: number): Uint8Array {
  const b = new GraphBuilder('u8s8_probe');
  const a = b.input('a', 'uint8', [4, K]);
  const w = b.initializer('w', tensor(new Int8Array(K).fill(127), [K, 1], 'int8', { backend: 'cpu' }));
  const y = b.node('MatMulInteger', [a, w], {}, { name: 'mm' });
  b.output(y, 'int32', [4, 1]);
  return writeModel(b.model([{ domain: '', version: 13 }]));
}

let cached: Promise<boolean> | undefined;

/** True when onnxruntime-node's u8s8 integer matmul saturates on this CPU (probed once). */
export function ortSaturatesU8S8(): Promise<boolean> {
  cached ??= (async () => {
    const ort = await import('onnxruntime-node');
    const K = 64;
    const s = await ort.InferenceSession.create(probeModel(K), { intraOpNumThreads: 1 });
    // pairs 255·127 + 255·127 = 64770 > 32767: exact hardware gives K·255·127 in every row
    const a = new Uint8Array(4 * K).fill(255);
    const out = await s.run({ a: new ort.Tensor('uint8', a, [4, K]) });
    await s.release();
    const y = out[s.outputNames[0]!]!.data as Int32Array;
    return y.some((v) => v !== K * 255 * 127);
  })();
  return cached;
}
