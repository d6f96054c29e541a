import type { Recipe } from '@whittle/graph';

/** Ready-made recipes (all run in onnxruntime-web; the last one needs labeled data, e.g. the demo's). */
export const PRESETS: readonly { id: string; label: string; recipe: Recipe }[] = [
  {
    id: 'int8-prune50',
    label: '50 % pruning + int8 weights',
    recipe: { name: 'int8-prune50', passes: [{ pass: 'prune-unstructured', options: { sparsity: 0.5 } }, { pass: 'quantize-weights', options: { bits: 8, granularity: 'per-channel' } }] },
  },
  { id: 'q4', label: '4-bit weights (block 32, QDQ)', recipe: { name: 'q4', passes: [{ pass: 'quantize-weights', options: { bits: 4 } }] } },
  { id: 'dynamic-int8', label: 'dynamic int8 (MatMulInteger)', recipe: { name: 'dynamic-int8', passes: [{ pass: 'quantize-dynamic' }] } },
  { id: 'lowrank', label: 'low-rank SVD (90 % energy)', recipe: { name: 'lowrank', passes: [{ pass: 'lowrank', options: { energy: 0.9 } }] } },
  { id: 'nm24', label: '2:4 semi-structured sparsity', recipe: { name: 'nm24', passes: [{ pass: 'prune-nm', options: { n: 2, m: 4 } }] } },
  {
    id: 'deep-compression',
    label: 'Deep Compression: gradual pruning to 90 % + 16 shared values (labeled data)',
    recipe: {
      name: 'deep-compression',
      passes: [
        { pass: 'prune-gradual', options: { targetSparsity: 0.9, epochs: 3, lr: 0.001 } },
        { pass: 'cluster-weights', options: { clusters: 16, storage: 'sparse' } },
      ],
    },
  },
];
