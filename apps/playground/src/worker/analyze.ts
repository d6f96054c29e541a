import { type Model, type ValueInfo, cloneModel, constantWeights, constantsToInitializers, initializerBytes, initializerSize, summarize } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { type ModelInputSpec, modelInputSpecs } from '@whittle/eval';
import { LAYER_GZIP_LIMIT, useNativeGzip } from '../analysis/gzip.js';
import { histogram, mergeHistograms } from '../analysis/histogram.js';
import { layerGzipBytes } from '../analysis/layer_bytes.js';
import { constantValues, graphLayers } from '../analysis/layers.js';
import { layerWeight } from '../analysis/weights.js';
import { sizeOf } from './size.js';
import type { IoInfo, LayerStat, ModelAnalysis, OpHistogram, WeightHistogram } from './protocol.js';

function io(v: ValueInfo): IoInfo {
  const t = v.type;
  return { name: v.name, elemType: t?.elemType ?? t?.kind ?? 'unknown', shape: t?.kind === 'tensor' && t.shape ? [...t.shape] : null };
}

/** An input with what the graph tells made-up data: the constants it compares it with, the smallest signal / image size its strided layers accept. */
function withDataHints(i: IoInfo, specs: ReadonlyMap<string, ModelInputSpec>): IoInfo {
  const s = specs.get(i.name);
  return { ...i, ...(s?.comparedWith?.length ? { comparedWith: [...s.comparedWith] } : {}), ...(s?.minDims ? { minDims: { ...s.minDims } } : {}) };
}

/**
 * The model as the techniques see its weights: exporters such as paddle2onnx and tf2onnx write
 * weights as Constant nodes, which every technique's front end turns into initializers first (so
 * do layers and histograms here, else such a model shows no layer at all). Only weights move
 * (`constantWeights`: not shapes, axes or scalars such as ReLU6's bounds); names are kept.
 */
export function withConstantWeights(model: Model): Model {
  const weights = constantWeights(model.graph);
  if (!weights.size) return model;
  const m = cloneModel(model);
  constantsToInitializers(m.graph, { only: (n) => weights.has(n.outputs[0] ?? '') });
  return m;
}

/** Op histogram, parameters and bytes per layer, and weight histograms of an encoded model. */
export async function analyzeModel(bytes: Uint8Array, onProgress: (f: number, m: string) => void = () => {}, original: Model = readModel(bytes)): Promise<ModelAnalysis> {
  const specs = new Map(modelInputSpecs(original).map((x) => [x.name, x]));
  const s = summarize(original);
  const model = withConstantWeights(original);
  const g = model.graph;
  // per-layer FLOPs by node index of the graph the layers come from
  const perNode = model === original ? s.layers : summarize(model).layers;
  const { producers } = constantValues(model);
  const all = (n: string) => g.initializers.get(n) ?? g.rawInitializers.get(n)!;
  const weighted = graphLayers(model).filter((l) => l.initializers.length > 0);
  const layers: LayerStat[] = [];
  const histograms: WeightHistogram[] = [];
  const skippedHistograms: ModelAnalysis['skippedHistograms'] = [];
  const native = useNativeGzip(s.bytes);
  const layerGzip = s.bytes <= LAYER_GZIP_LIMIT;
  for (const [i, l] of weighted.entries()) {
    onProgress(i / weighted.length, `${l.name} (${i + 1}/${weighted.length})`);
    layers.push({
      name: l.name,
      opType: l.node.opType,
      parameters: l.initializers.reduce((a, n) => a + initializerSize(all(n)), 0),
      bytes: l.initializers.reduce((a, n) => a + initializerBytes(all(n)), 0),
      ...(layerGzip ? { gzipBytes: await layerGzipBytes(g, l.initializers, s.bytes) } : {}),
      flops: perNode[l.index]?.flops ?? 0,
    });
    const w = await layerWeight(model, l, producers);
    if ('reason' in w) skippedHistograms.push({ layer: l.name, reason: w.reason });
    else histograms.push({ layer: l.name, shape: w.shape, ...histogram(w.values), ...(w.note ? { note: w.note } : {}) });
  }
  const byOp = new Map<string, WeightHistogram[]>();
  for (const hh of histograms) {
    if (hh.note) continue; // integer codes do not mix with real weights
    const op = layers.find((l) => l.name === hh.layer)!.opType;
    byOp.set(op, [...(byOp.get(op) ?? []), hh]);
  }
  const opHistograms: OpHistogram[] = [...byOp].map(([opType, hs]) => ({ opType, layers: hs.length, ...mergeHistograms(hs) }));
  // the file's size metrics (as evaluation reports them), while the model is parsed anyway
  const size = await sizeOf(bytes, original);
  const fed = g.inputs.filter((i) => !g.initializers.has(i.name) && !g.rawInitializers.has(i.name));
  return {
    fileBytes: bytes.length,
    nodes: s.nodes,
    ops: s.ops,
    parameters: s.parameters,
    bytes: s.bytes,
    byDtype: s.byDtype,
    flops: s.flops,
    opsets: model.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`),
    inputs: fed.map((v) => withDataHints(io(v), specs)),
    outputs: g.outputs.map(io),
    layers,
    histograms,
    opHistograms,
    skippedHistograms,
    gzipMethod: !layerGzip ? 'skipped' : native ? 'native' : 'fflate',
    size: size.size,
    fileGzipMethod: size.gzipMethod,
  };
}
