/**
 * Bring-your-own data: data sources (ONNX test-data folders, .npy/.npz, PNG/JPEG folders, WAV audio,
 * CSV/TSV, JSONL, raw text with a tokenizer.json, synthetic), data specs, batching into model feeds, calibration and training data.
 * @module
 */
export * from './errors.js';
export * from './source.js';
export * from './compared_constants.js';
export * from './arrays.js';
export * from './files.js';
export * from './batches.js';
export * from './decoder_defaults.js';
export * from './consumers.js';
export * from './npy.js';
export * from './match.js';
export * from './array_source.js';
export * from './onnx_test_data.js';
export * from './image.js';
export * from './image_folder.js';
export * from './wav.js';
export * from './audio_folder.js';
export * from './tabular.js';
export * from './jsonl.js';
export * from './text.js';
export * from './synthetic.js';
export * from './spec.js';
