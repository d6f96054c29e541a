// A deep, plain-object snapshot of a Model: every field, tensors as dtype/shape/hex bytes.
import type { Tensor } from '@whittle/tensor';
import type { AttributeValue, Graph, Model, RawTensor, ValueInfo } from '@whittle/graph';
import { isRawTensor } from '../src/index.js';

const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex') : undefined);

export function tensorSnap(t: Tensor | RawTensor): unknown {
  if (isRawTensor(t)) return { raw: t.dataType, dims: [...t.dims], data: hex(t.rawData), strings: t.strings?.map(hex), doc: t.docString };
  const d = t.dataSync();
  return { dtype: t.dtype, shape: [...t.shape], data: hex(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)) };
}

function attrSnap(a: AttributeValue): unknown {
  switch (a.type) {
    case 'tensor':
      return { type: a.type, value: tensorSnap(a.value) };
    case 'tensors':
      return { type: a.type, value: a.value.map(tensorSnap) };
    case 'graph':
      return { type: a.type, value: graphSnap(a.value) };
    case 'graphs':
      return { type: a.type, value: a.value.map(graphSnap) };
    case 'raw':
      return { type: a.type, value: hex(a.value) };
    case 'string':
      return { type: a.type, value: a.value, bytes: hex(a.bytes) };
    default:
      return a;
  }
}

function viSnap(v: ValueInfo): unknown {
  return { ...v, type: v.type ? { ...v.type, raw: hex(v.type.raw) } : null };
}

export function graphSnap(g: Graph): unknown {
  return {
    name: g.name,
    doc: g.docString,
    meta: g.metadataProps,
    inputs: g.inputs.map(viSnap),
    outputs: g.outputs.map(viSnap),
    valueInfo: [...g.valueInfo].map(([k, v]) => [k, viSnap(v)]),
    initializers: [...g.initializers].map(([k, v]) => [k, tensorSnap(v)]),
    rawInitializers: [...g.rawInitializers].map(([k, v]) => [k, tensorSnap(v)]),
    passthrough: g.passthrough && {
      sparse: g.passthrough.sparseInitializers?.map(hex),
      quant: g.passthrough.quantizationAnnotations?.map(hex),
      unknown: g.passthrough.unknownFields?.map(hex),
      initFields: g.passthrough.initializerFields && Object.entries(g.passthrough.initializerFields).map(([k, v]) => [k, v.map(hex)]),
    },
    nodes: g.nodes.map((n) => ({
      ...n,
      attributes: [...n.attributes].map(([k, v]) => [k, attrSnap(v)]),
      unknownFields: n.unknownFields?.map(hex),
    })),
  };
}

export function modelSnap(m: Model): unknown {
  return {
    ...m,
    graph: graphSnap(m.graph),
    functions: m.functions?.map(hex),
    trainingInfo: m.trainingInfo?.map(hex),
    unknownFields: m.unknownFields?.map(hex),
  };
}
