// Shared by the Node and the browser consumer: build a small seeded MLP with @whittle/graph, prune
// it to 50 % with @whittle/prune's registered pass, run it in @whittle/graph's interpreter. Only
// published entry points are imported, exactly as a user of the tarballs would.
import { GraphBuilder, runModel, runPass } from '@whittle/graph';
import { pruneUnstructured } from '@whittle/prune';
import { Rng, tensor } from '@whittle/tensor';

function randn(rng, n, scale) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** The MLP: Gemm(transB, 16→32) → Relu → MatMul(32→8). */
export function mlp(seed = 7) {
  const rng = new Rng(seed);
  const b = new GraphBuilder('pack_mlp');
  const x = b.input('x', 'float32', ['N', 16]);
  let h = b.node('Gemm', [x, b.initializer('fc1.weight', tensor(randn(rng, 32 * 16, 0.3), [32, 16])), b.initializer('fc1.bias', tensor(randn(rng, 32, 0.1), [32]))], { transB: 1 }, { name: 'fc1' });
  h = b.node('Relu', [h], {}, { name: 'relu' });
  h = b.node('MatMul', [h, b.initializer('fc2.weight', tensor(randn(rng, 32 * 8, 0.3), [32, 8]))], {}, { name: 'fc2' });
  b.output(h, 'float32', ['N', 8]);
  return b.model();
}

/** Prune the MLP and run original and pruned on one seeded batch; plain numbers out. */
export async function pruneMlp() {
  const model = mlp();
  const { model: pruned, report } = await runPass(pruneUnstructured, model, { sparsity: 0.5 }, { seed: 1 });
  const weights = [];
  let zeros = 0;
  let total = 0;
  for (const name of ['fc1.weight', 'fc2.weight']) {
    const w = await pruned.graph.initializers.get(name).data();
    for (const v of w) zeros += v === 0 ? 1 : 0;
    total += w.length;
    weights.push(Array.from(w));
  }
  const x = tensor(randn(new Rng(3), 4 * 16, 1), [4, 16]);
  const out = async (m) => Array.from(await [...(await runModel(m, { x })).values()][0].data());
  return { changed: report.changed, zeros, total, weights, original: await out(model), output: await out(pruned) };
}
