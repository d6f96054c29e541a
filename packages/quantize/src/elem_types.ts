/**
 * Element types of every value of a model, main graph and subgraphs (If branches, Loop/Scan
 * bodies), from declared types, initializers and per-op rules. Only element types (no shapes):
 * what `convert-float16` needs to know which values are float32.
 */
import { type Graph, type Model, type Node, type OnnxDataType, isDefaultDomain, onnxTypeFromCode, subgraphsOf } from '@whittle/graph';
import { isRawTensor } from '@whittle/graph';

/** Element type by value name (names are unique in a model; sibling branches agree on reuse). */
export type ElemTypes = Map<string, OnnxDataType>;

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);

function attrInt(n: Node, k: string): number | undefined {
  const a = n.attributes.get(k);
  return a?.type === 'int' ? a.value : undefined;
}

function tensorAttrType(n: Node, k: string): OnnxDataType | undefined {
  const a = n.attributes.get(k);
  if (a?.type !== 'tensor') return undefined;
  return isRawTensor(a.value) ? a.value.dataType : a.value.dtype;
}

function declaredOutputs(g: Graph): (OnnxDataType | undefined)[] {
  return g.outputs.map((o) => (o.type?.kind === 'tensor' ? o.type.elemType : undefined));
}

/** Output element types of one node (undefined where unknown). */
function outputTypes(n: Node, t: (name: string | undefined) => OnnxDataType | undefined, types: ElemTypes): (OnnxDataType | undefined)[] {
  const in0 = t(n.inputs[0]);
  const all = (x: OnnxDataType | undefined): (OnnxDataType | undefined)[] => n.outputs.map(() => x);
  if (n.domain === 'ai.onnx.ml') return mlOutputTypes(n, in0);
  if (!isDefaultDomain(n.domain)) {
    if (n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized') return all(t(n.inputs[2]));
    return all(in0);
  }
  const branchOut = (attr: string, from = 0): (OnnxDataType | undefined)[] => {
    const a = n.attributes.get(attr);
    if (a?.type !== 'graph') return all(undefined);
    const body = a.value;
    return declaredOutputs(body).slice(from).map((d, i) => d ?? types.get(body.outputs[i + from]!.name));
  };
  switch (n.opType) {
    case 'Cast': {
      const to = attrInt(n, 'to');
      return all(to === undefined ? undefined : onnxTypeFromCode(to));
    }
    case 'CastLike': return all(t(n.inputs[1]));
    case 'Constant': {
      const v = tensorAttrType(n, 'value');
      if (v) return all(v);
      if (n.attributes.has('value_float') || n.attributes.has('value_floats')) return all('float32');
      if (n.attributes.has('value_int') || n.attributes.has('value_ints')) return all('int64');
      return all(undefined);
    }
    case 'ConstantOfShape': return all(tensorAttrType(n, 'value') ?? 'float32');
    case 'TopK': case 'MaxPool': return [in0, 'int64'];
    case 'Unique': return [in0, 'int64', 'int64', 'int64'];
    case 'DequantizeLinear': return all(t(n.inputs[1]) ?? 'float32');
    case 'QuantizeLinear': return all(t(n.inputs[2]) ?? 'uint8');
    case 'DynamicQuantizeLinear': return ['uint8', 'float32', 'uint8'];
    case 'MatMulInteger': case 'ConvInteger': return all('int32');
    case 'Where': return all(t(n.inputs[1]));
    case 'OneHot': return all(t(n.inputs[2]));
    case 'EyeLike': case 'RandomNormalLike': case 'RandomUniformLike': case 'Bernoulli': {
      const d = attrInt(n, 'dtype');
      return all(d === undefined ? in0 : onnxTypeFromCode(d));
    }
    case 'RandomNormal': case 'RandomUniform': return all(onnxTypeFromCode(attrInt(n, 'dtype') ?? 1));
    case 'Multinomial': return all(onnxTypeFromCode(attrInt(n, 'dtype') ?? 6));
    case 'If': return branchOut('then_branch');
    case 'Loop': return branchOut('body', 1);
    case 'Scan': return branchOut('body');
    default:
      if (BOOL_OPS.has(n.opType)) return all('bool');
      if (INT64_OPS.has(n.opType)) return all('int64');
      return all(in0);
  }
}

/** ai.onnx.ml ops whose outputs are float whatever they read (scores, scaled features). */
const ML_FLOAT_OUT = new Set(['Scaler', 'Normalizer', 'LinearRegressor', 'SVMRegressor', 'TreeEnsembleRegressor', 'OneHotEncoder', 'FeatureVectorizer']);
/** ai.onnx.ml classifiers: a label (int64 or string by their class labels) and float scores. */
const ML_CLASSIFIERS = new Set(['LinearClassifier', 'SVMClassifier', 'TreeEnsembleClassifier']);

/**
 * Output element types of an ai.onnx.ml node. ZipMap and DictVectorizer-style outputs are not
 * tensors: undefined, so nothing takes them for float32 values.
 */
function mlOutputTypes(n: Node, in0: OnnxDataType | undefined): (OnnxDataType | undefined)[] {
  const all = (x: OnnxDataType | undefined): (OnnxDataType | undefined)[] => n.outputs.map(() => x);
  if (ML_FLOAT_OUT.has(n.opType)) return all('float32');
  if (ML_CLASSIFIERS.has(n.opType)) return [n.attributes.has('classlabels_strings') ? 'string' : 'int64', 'float32'];
  if (n.opType === 'ArrayFeatureExtractor' || n.opType === 'Binarizer' || n.opType === 'Imputer') return all(in0);
  return all(undefined);
}

function walk(g: Graph, types: ElemTypes): void {
  for (const v of g.inputs) if (v.type?.kind === 'tensor' && v.type.elemType) types.set(v.name, v.type.elemType);
  for (const [k, x] of g.initializers) types.set(k, x.dtype);
  for (const [k, x] of g.rawInitializers) types.set(k, x.dataType);
  const declared = new Map<string, OnnxDataType>();
  for (const v of [...g.valueInfo.values(), ...g.outputs]) if (v.type?.kind === 'tensor' && v.type.elemType) declared.set(v.name, v.type.elemType);
  const t = (name: string | undefined): OnnxDataType | undefined => (name ? types.get(name) : undefined);
  for (const n of g.nodes) {
    for (const sg of subgraphsOf(n)) walk(sg, types);
    const outs = outputTypes(n, t, types);
    n.outputs.forEach((o, i) => {
      if (!o) return;
      const d = declared.get(o) ?? outs[i];
      if (d) types.set(o, d);
    });
  }
}

/** Element types of every value of every graph of `model`. */
export function inferElemTypes(model: Model): ElemTypes {
  const types: ElemTypes = new Map();
  walk(model.graph, types);
  return types;
}
