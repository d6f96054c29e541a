import type { Model } from '../ir/types.js';

/**
 * Make the main graph's weights that are also listed as graph inputs plain constants: drop those
 * inputs, in place, and return their names. IR 3 required every initializer to be an input
 * too (old exporters and the older ONNX model zoo files still have them); a runtime may then
 * override a weight, so onnxruntime will not fold or fuse it and tells users to remove the inputs.
 * Nobody feeds a weight: dropping them lets BatchNorm folding, constant folding and every technique
 * treat the weights as weights. The IR version becomes at least 4, where initializers need not be
 * inputs.
 */
export function initializerInputsToConstants(m: Model): string[] {
  const g = m.graph;
  // IR 3 listed every initializer as an input (never a choice); from IR 4 listing one is a choice,
  // so only float tensors of rank ≥ 1 (weights, biases, norm parameters) go: a scalar or integer
  // default (a sample rate, a threshold, a length) may be there to be fed, and stays an input
  const weightLike = (name: string): boolean => {
    if (m.irVersion < 4) return true;
    const t = g.initializers.get(name);
    return !!t && t.rank >= 1 && (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64');
  };
  const names = g.inputs.filter((v) => (g.initializers.has(v.name) || g.rawInitializers.has(v.name)) && weightLike(v.name)).map((v) => v.name);
  if (!names.length) return names;
  const drop = new Set(names);
  g.inputs = g.inputs.filter((v) => !drop.has(v.name));
  if (m.irVersion < 4) m.irVersion = 4;
  return names;
}
