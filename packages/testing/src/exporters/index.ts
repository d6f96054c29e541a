export * from './torchvision.js';
export * from './transformer.js';
export * from './tf2onnx.js';
export * from './paddle.js';
export * from './optimum.js';
export * from './sklearn.js';
export * from './genai_builder.js';
export * from './torch_dynamo.js';
