/**
 * The onnxruntime-node check of a folder's sub-model variants: seeded made-up inputs of the
 * sub-model's own input specs (token ids below the vocabulary, all-ones masks, an empty KV cache,
 * use_cache_branch false, normal floats; input sizes from the folder's preprocessor_config.json or
 * `--shapes`), run through the source file once and through each variant; every float output is
 * compared by cosine, and a variant whose outputs turn non-finite where the source's are finite is
 * refused.
 */
import type { Model } from '@whittle/graph';
import type { OrtFeed, OrtOutput } from '@whittle/eval/node';
import { UsageError } from '../errors.js';

/** Fixed input shapes by input name. */
export type InputShapes = Record<string, number[]>;

/** The source's outputs on the probe feeds. */
export interface FolderProbe {
  feeds: Record<string, OrtFeed>[];
  reference: Record<string, OrtOutput>[];
  /** What the made-up inputs were (for messages). */
  description: string;
}

/** How a variant's outputs compare with the source's. */
export interface FolderAgreement {
  /** Smallest cosine over the float outputs and probe samples (1 when every output is identical). */
  cosine: number;
  /** The output with that cosine. */
  output: string;
}

/** `input_features=1x80x3000,pixel_values=1x3x224x224` → shapes by name. */
export function parseShapes(text: string): InputShapes {
  const out: InputShapes = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(part);
    if (!m || m[2]!.split('x').some((d) => Number(d) < 1)) throw new UsageError(`--shapes: '${part}' is not name=positive sizes joined by x (e.g. input_features=1x80x3000)`);
    out[m[1]!.trim()] = m[2]!.split('x').map(Number);
  }
  return out;
}

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

/**
 * Sizes the folder's preprocessor_config.json gives the inputs a processor makes, as the pipeline
 * would feed them: `input_features` [1, feature_size, nb_max_frames] (speech feature extractors)
 * and `pixel_values` [1, channels, height, width] (image processors: `size` or `crop_size`).
 */
export function preprocessorShapes(pre: Record<string, unknown> | undefined): InputShapes {
  if (!pre) return {};
  const out: InputShapes = {};
  const features = positive(pre.feature_size);
  const frames = positive(pre.nb_max_frames);
  if (features && frames) out.input_features = [1, features, frames];
  const side = (v: unknown): [number, number] | undefined => {
    if (positive(v)) return [v as number, v as number];
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    const h = positive(o.height) ?? positive(o.shortest_edge);
    const w = positive(o.width) ?? positive(o.shortest_edge);
    return h && w ? [h, w] : undefined;
  };
  const hw = side(pre.crop_size) ?? side(pre.size);
  if (hw) out.pixel_values = [1, positive(pre.num_channels) ?? 3, ...hw];
  return out;
}

/** The probe of a source sub-model: one seeded made-up feed and the source's outputs on it, in onnxruntime-node. */
export async function folderProbe(source: string, model: Model, opts: { vocab?: number | undefined; shapes: InputShapes; what: string }): Promise<FolderProbe> {
  const { createOrtRunner, modelInputSpecs, syntheticSource } = await import('@whittle/eval/node');
  const specs = modelInputSpecs(model).map((s) => {
    const given = opts.shapes[s.name];
    if (!given) return s;
    if (s.shape && s.shape.length !== given.length) throw new UsageError(`--shapes ${s.name}=${given.join('x')}: ${opts.what} takes ${s.name} of rank ${s.shape.length}`);
    return { ...s, shape: given };
  });
  const feeds: Record<string, OrtFeed>[] = [];
  let description = '';
  for (const seed of [0]) {
    const src = syntheticSource(specs, { count: 1, seed, ...(opts.vocab ? { intHigh: opts.vocab } : {}) });
    description = src.description;
    for await (const chunk of src.chunks()) {
      const feed: Record<string, OrtFeed> = {};
      for (const s of specs) {
        const a = chunk.inputs[s.name]!;
        // a fully fixed shape is one whole feed per sample; a dynamic batch axis holds the sample rows
        const dims = s.shape && typeof s.shape[0] === 'number' ? a.shape.slice(1) : a.shape;
        feed[s.name] = { data: a.data as Float32Array, dims, type: a.dtype === 'float32' ? 'float32' : (a.dtype as 'int64') };
      }
      feeds.push(feed);
    }
  }
  const runner = await createOrtRunner(source);
  try {
    const reference: Record<string, OrtOutput>[] = [];
    for (const f of feeds) {
      try {
        reference.push(await runner.run(f));
      } catch (e) {
        const dynamic = specs.filter((s) => s.shape?.some((d) => typeof d !== 'number')).map((s) => s.name);
        throw new UsageError(`${opts.what} does not run on made-up inputs (${description}): ${(e as Error).message.split('\n')[0]}${dynamic.length ? `; give the sizes it takes with --shapes (e.g. --shapes ${dynamic[0]}=${['1', ...Array(Math.max(0, (specs.find((s) => s.name === dynamic[0])?.shape?.length ?? 2) - 1)).fill('N')].join('x')})` : ''}`);
      }
    }
    return { feeds, reference, description };
  } finally {
    await runner.release();
  }
}

const FLOAT_OUTPUTS = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * Run a variant on the probe feeds and compare its float outputs with the source's (cosine of the
 * whole tensor). Throws when the variant does not run, changes an output's shape, or gives a
 * non-finite value where the source's is finite.
 */
export async function folderAgreement(probe: FolderProbe, variant: Uint8Array | string, what: string): Promise<FolderAgreement> {
  const { createOrtRunner, cosineSimilarity, EvaluationError } = await import('@whittle/eval/node');
  const runner = await createOrtRunner(variant);
  let worst: FolderAgreement = { cosine: 1, output: '' };
  try {
    for (let s = 0; s < probe.feeds.length; s++) {
      const out = await runner.run(probe.feeds[s]!);
      for (const [name, ref] of Object.entries(probe.reference[s]!)) {
        const got = out[name];
        if (!got) throw new EvaluationError(`${what}: output '${name}' is missing`);
        if (got.dims.join('x') !== ref.dims.join('x')) throw new EvaluationError(`${what}: output '${name}' has shape [${got.dims.join(', ')}], the source's [${ref.dims.join(', ')}]`);
        if (!FLOAT_OUTPUTS.has(ref.type)) continue;
        for (let i = 0; i < ref.data.length; i++) {
          if (Number.isFinite(ref.data[i]!) && !Number.isFinite(got.data[i]!)) throw new EvaluationError(`${what}: output '${name}' is ${got.data[i]} at element ${i} where the source gives ${ref.data[i]} (made-up inputs: ${probe.description})`);
        }
        const c = cosineSimilarity(ref.data, got.data);
        if (c < worst.cosine || worst.output === '') worst = { cosine: Math.min(c, worst.cosine), output: name };
      }
    }
  } finally {
    await runner.release();
  }
  return worst;
}
