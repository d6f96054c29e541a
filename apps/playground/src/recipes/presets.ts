/**
 * Ready-made recipes, offered by what the model contains ({@link ModelKind}); the first preset
 * of a kind is its default, so Compress is ready as soon as a model is open. Labels quote the
 * passes' real defaults (read from the pass registry), never numbers copied here.
 */
import { type Recipe, listPasses } from '@whittle/graph';
import type { ModelKind } from './model_kind.js';

/** One preset. */
export interface Preset {
  id: string;
  label: string;
  recipe: Recipe;
  /** Kinds it is offered for; the first preset listing a kind first-in-order is that kind's default. */
  kinds: readonly ModelKind[];
  /** Needs labeled training data (fine-tuning). */
  needsLabels?: boolean;
}

/** The default of a pass option, as the registry declares it. */
export function passDefault(pass: string, option: string): unknown {
  return listPasses().find((p) => p.name === pass)?.options[option]?.default;
}

const ALL: readonly ModelKind[] = ['cnn', 'transformer', 'lm-kv', 'mlp', 'other'];

/** Every preset (labels built from the registered passes' defaults). */
export function allPresets(): Preset[] {
  const block = String(passDefault('quantize-weights', 'blockSize'));
  return [
    { id: 'int8-weights', label: 'int8 weights, per channel (QDQ)', kinds: ALL, recipe: { name: 'int8-weights', passes: [{ pass: 'quantize-weights', options: { bits: 8, granularity: 'per-channel' } }] } },
    {
      id: 'int4-matmulnbits',
      label: `4-bit weights, block ${block} (MatMulNBits; embeddings int4 QDQ)`,
      kinds: ['lm-kv', 'transformer'],
      recipe: { name: 'int4-matmulnbits', passes: [{ pass: 'quantize-weights', options: { bits: 4, format: 'matmulnbits' } }] },
    },
    { id: 'dynamic-int8', label: 'dynamic int8 (MatMulInteger)', kinds: ['transformer', 'lm-kv', 'mlp', 'other'], recipe: { name: 'dynamic-int8', passes: [{ pass: 'quantize-dynamic' }] } },
    {
      id: 'int8-prune50',
      label: '50 % pruning + int8 weights',
      kinds: ['mlp', 'cnn', 'transformer', 'other'],
      recipe: { name: 'int8-prune50', passes: [{ pass: 'prune-unstructured', options: { sparsity: 0.5 } }, { pass: 'quantize-weights', options: { bits: 8, granularity: 'per-channel' } }] },
    },
    { id: 'q4', label: `4-bit weights, block ${block} (QDQ)`, kinds: ['mlp', 'cnn', 'transformer', 'other'], recipe: { name: 'q4', passes: [{ pass: 'quantize-weights', options: { bits: 4 } }] } },
    { id: 'fp16', label: 'float16 weights and activations', kinds: ALL, recipe: { name: 'fp16', passes: [{ pass: 'convert-float16' }] } },
    { id: 'lowrank', label: 'low-rank SVD (90 % energy)', kinds: ['mlp', 'transformer', 'other'], recipe: { name: 'lowrank', passes: [{ pass: 'lowrank', options: { energy: 0.9 } }] } },
    { id: 'nm24', label: '2:4 semi-structured sparsity', kinds: ['mlp', 'cnn', 'transformer', 'other'], recipe: { name: 'nm24', passes: [{ pass: 'prune-nm', options: { n: 2, m: 4 } }] } },
    {
      id: 'deep-compression',
      label: 'Deep Compression: gradual pruning to 90 % + 16 shared values (labeled data)',
      kinds: ['mlp'],
      needsLabels: true,
      recipe: {
        name: 'deep-compression',
        passes: [
          { pass: 'prune-gradual', options: { targetSparsity: 0.9, epochs: 3, lr: 0.001 } },
          { pass: 'cluster-weights', options: { clusters: 16, storage: 'sparse' } },
        ],
      },
    },
  ];
}

/** Default preset per kind (the most useful first step for that kind of model). */
const DEFAULT: Record<ModelKind, string> = {
  cnn: 'int8-weights',
  transformer: 'dynamic-int8',
  'lm-kv': 'int4-matmulnbits',
  mlp: 'int8-prune50',
  other: 'int8-weights',
};

/**
 * Presets for a kind of model, the default first; presets that need labeled training data are
 * kept but marked unavailable (with why) when there is none.
 */
export function presetsFor(kind: ModelKind, labeledTraining: boolean): { preset: Preset; unavailable?: string }[] {
  const fit = allPresets().filter((p) => p.kinds.includes(kind));
  fit.sort((a, b) => Number(b.id === DEFAULT[kind]) - Number(a.id === DEFAULT[kind]));
  return fit.map((preset) => (preset.needsLabels && !labeledTraining ? { preset, unavailable: 'needs labeled training data (the MNIST demo has it)' } : { preset }));
}
