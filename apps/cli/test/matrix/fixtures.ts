/**
 * Exporter-style fixtures of the matrix: models built in code the way torch.onnx, tf2onnx,
 * paddle2onnx, Optimum and skl2onnx write them, with the inputs to run them on.
 */
import type { Model } from '@whittle/graph';
import type { CorpusInput } from '@whittle/testing/corpus';
import { genaiBuilderDecoder, optimumDecoder, optimumLlamaDecoder, paddleOcrStyle, sklearnDataset, sklearnDecisionTree, sklearnMlpClassifier, sklearnMlpRegressor, tf2onnxConvNet, torchDynamoMlp, torchTransformerEncoder, torchvisionMobilenetV2 } from '@whittle/testing/exporters';

/** A fixture: a builder and its inputs. */
export interface FixtureModel {
  id: string;
  about: string;
  build: () => Model;
  inputs: CorpusInput[];
}

/** 64 rows of the distribution the skl2onnx fixtures were fitted on (features far from N(0, 1)). */
const tabular = (): CorpusInput => ({ name: 'float_input', type: 'float32', dims: [64, 8], values: Array.from(sklearnDataset(1, 64, 8, 3, 99).x) });
const kv = (name: string): CorpusInput => ({ name, type: 'float32', dims: [1, 4, 3, 16] });

export const FIXTURES: readonly FixtureModel[] = [
  {
    id: 'torch-mobilenetv2', about: 'torchvision MobileNetV2 as torch.onnx exports it (opset 17, Clip as ReLU6, depthwise convs, 3.5 M parameters)',
    build: () => torchvisionMobilenetV2({ seed: 1 }), inputs: [{ name: 'input', type: 'float32', dims: [1, 3, 224, 224] }],
  },
  {
    id: 'torch-encoder', about: 'nn.TransformerEncoder as torch.onnx exports it at opset 14 (MatMul weights, decomposed LayerNorm, dynamic head reshapes)',
    build: () => torchTransformerEncoder({ seed: 1 }), inputs: [{ name: 'src', type: 'float32', dims: [1, 8, 64] }],
  },
  {
    id: 'torch-dynamo-mlp', about: 'an MLP as torch.onnx.dynamo_export writes it (opset 18, every module and aten op a model-local function, weights behind an If on the rank, attributes bound by reference)',
    build: () => torchDynamoMlp({ seed: 1 }), inputs: [{ name: 'l_x_', type: 'float32', dims: [4, 64] }],
  },
  {
    id: 'tf2onnx-cnn', about: 'a Keras CNN as tf2onnx writes it (NHWC input, Transposes around Conv, HWIO kernel behind a Transpose)',
    build: () => tf2onnxConvNet({ seed: 1 }), inputs: [{ name: 'input_1', type: 'float32', dims: [1, 16, 16, 3] }],
  },
  {
    id: 'paddle-op11', about: 'a paddle2onnx detector + classifier at opset 11 (every weight a Constant node, BatchNorm, Resize)',
    build: () => paddleOcrStyle({ seed: 1 }), inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 32, 32] }],
  },
  {
    id: 'paddle-op9', about: 'the same at opset 9 (Clip and Slice with attributes)',
    build: () => paddleOcrStyle({ seed: 1, opset: 9 }), inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 32, 32] }],
  },
  {
    id: 'optimum-decoder', about: 'a GPT-2-style decoder_model_merged as Optimum exports it (If on use_cache_branch, KV cache, embedding tied with the LM head)',
    build: () => optimumDecoder({ seed: 1 }),
    inputs: [
      { name: 'input_ids', type: 'int64', dims: [1, 4], kind: 'token-ids', vocab: 256 },
      { name: 'attention_mask', type: 'int64', dims: [1, 7], kind: 'ones' },
      kv('past_key_values.0.key'), kv('past_key_values.0.value'), kv('past_key_values.1.key'), kv('past_key_values.1.value'),
      { name: 'use_cache_branch', type: 'bool', dims: [1], kind: 'ones' },
    ],
  },
  {
    id: 'optimum-llama', about: 'a Llama-style decoder as Optimum exports model.onnx (RMSNorm with its Casts, rotary positions computed in the graph, 4 query over 2 key/value heads repeated by Expand/Reshape, SiLU-gated MLP; KV cache), with a massive residual channel (600) on every third token',
    build: () => optimumLlamaDecoder({ seed: 1, massiveActivation: { channel: 5, value: 600 } }),
    inputs: [
      { name: 'input_ids', type: 'int64', dims: [1, 4], kind: 'token-ids', vocab: 256 },
      { name: 'attention_mask', type: 'int64', dims: [1, 7], kind: 'ones' },
      { name: 'position_ids', type: 'int64', dims: [1, 4], values: [3, 4, 5, 6] },
      ...[0, 1].flatMap((i) => ['key', 'value'].map((kind): CorpusInput => ({ name: `past_key_values.${i}.${kind}`, type: 'float32', dims: [1, 2, 3, 16] }))),
    ],
  },
  {
    id: 'genai-decoder', about: 'a Llama-style decoder as onnxruntime-genai\'s model builder writes it (GroupQueryAttention with rotary caches, SkipSimplifiedLayerNormalization, SiLU-gated MLP, fp32 MatMul weights; KV cache)',
    build: () => genaiBuilderDecoder({ seed: 1 }).model,
    inputs: [
      { name: 'input_ids', type: 'int64', dims: [1, 4], kind: 'token-ids', vocab: 256 },
      { name: 'attention_mask', type: 'int64', dims: [1, 7], kind: 'ones' },
      ...[0, 1].flatMap((i) => ['key', 'value'].map((kind): CorpusInput => ({ name: `past_key_values.${i}.${kind}`, type: 'float32', dims: [1, 2, 3, 16] }))),
    ],
  },
  {
    id: 'skl2onnx-mlp', about: 'a StandardScaler + MLPClassifier pipeline as skl2onnx writes it with zipmap=False (ai.onnx.ml Scaler and ArrayFeatureExtractor around MatMul + Add layers; int64 labels and float probabilities)',
    build: () => sklearnMlpClassifier({ seed: 1, zipmap: false }), inputs: [tabular()],
  },
  {
    id: 'skl2onnx-mlp-zipmap', about: 'the same with skl2onnx\'s default ZipMap: probabilities as a sequence of maps onnxruntime-node cannot return (the labels are compared: cosine = fraction of labels agreeing)',
    build: () => sklearnMlpClassifier({ seed: 1 }), inputs: [tabular()],
  },
  {
    id: 'skl2onnx-regressor', about: 'a StandardScaler + MLPRegressor pipeline as skl2onnx writes it',
    build: () => sklearnMlpRegressor({ seed: 1 }), inputs: [tabular()],
  },
  {
    id: 'skl2onnx-tree', about: 'a DecisionTreeClassifier as skl2onnx writes it: one TreeEnsembleClassifier (thresholds and leaves are attributes) and ZipMap, no initializer',
    build: () => sklearnDecisionTree({ seed: 1 }), inputs: [tabular()],
  },
];
