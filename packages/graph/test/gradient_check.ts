/** Central-difference checks of the interpreter's gradients with respect to a model's initializers. */
import { Rng, tensor, type Tensor } from '@whittle/tensor';
import * as T from '@whittle/tensor';
import { GraphModule } from '../src/train/graph_module.js';
import type { Model } from '../src/ir/types.js';
import { runModel } from '../src/interpreter/run.js';

async function loss(model: Model, feeds: Record<string, Tensor>, module?: GraphModule): Promise<Tensor> {
  const outs = module ? await module.forward(feeds) : await runModel(model, feeds, { backend: 'cpu' });
  const y = outs.get(model.graph.outputs[0]!.name)!;
  const rng = new Rng(99);
  const r = tensor(Float32Array.from({ length: y.size }, () => rng.normal()), [...y.shape], 'float32', { backend: 'cpu' });
  return T.sum(T.mul(y, r));
}

/**
 * The worst relative error between autograd's d(sum(out₀·R))/d(initializer) for each named
 * initializer and central differences, over up to `entries` entries of each.
 */
export async function worstGradientError(model: Model, feeds: Record<string, Tensor>, names: string[], entries = 10): Promise<number> {
  const module = await GraphModule.create(model, { backend: 'cpu', trainable: (name) => names.includes(name) });
  (await loss(model, feeds, module)).backward();
  let worst = 0;
  for (const name of names) {
    const g = (await module.parameters.get(name)!.grad!.toFloat64()) as Float64Array;
    const base = model.graph.initializers.get(name)!;
    const values = Float32Array.from(await base.toFloat64());
    const step = Math.max(1, Math.floor(values.length / entries));
    for (let i = 0; i < values.length; i += step) {
      const at = async (d: number): Promise<number> => {
        const v = Float32Array.from(values);
        v[i] = v[i]! + d;
        const inits = new Map(model.graph.initializers);
        inits.set(name, tensor(v, [...base.shape], 'float32', { backend: 'cpu' }));
        return (await loss({ ...model, graph: { ...model.graph, initializers: inits } }, feeds)).item();
      };
      const eps = 1e-2;
      const num = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      worst = Math.max(worst, Math.abs(num - g[i]!) / Math.max(1, Math.abs(num)));
    }
  }
  module.dispose();
  return worst;
}
