/**
 * @whittle/quantize — quantization passes: weight-only RTN (QDQ / MatMulNBits), static PTQ with
 * calibration (QDQ / QOperator), dynamic int8, GPTQ, SmoothQuant, float16, QAT, weight clustering
 * and mixed precision. Importing this module registers every pass by name (`QUANTIZE_PASSES`;
 * its one side effect); `@whittle/quantize/passes` exports them without registering.
 * @module
 */
import { registerPasses } from '@whittle/graph';
import { QUANTIZE_PASSES } from './passes.js';

export { quantizeWeightsPass, rtnOptions } from './rtn.js';
export { quantizeStaticPass, staticOptions } from './static.js';
export { quantizeDynamicPass, dynamicOptions } from './dynamic.js';
export { gptqPass, gptqOptions, gptqQuantize, outputMse, type GptqSpec } from './gptq.js';
export { convertFloat16Pass, float16Options } from './float16.js';
export { clusterWeightsPass, clusterOptions, type ClusterPassOptions } from './cluster_pass.js';
export { qatPass, qatOptions } from './qat.js';
export { quantizeMixedPass, mixedOptions } from './mixed.js';
export { quantizeBnb4Pass, bnb4Options, quantizeBnb4 } from './bnb4.js';
export { smoothQuantPass, smoothQuantOptions } from './smooth_quant.js';
export { quantizeHqqPass, hqqOptions, hqqQuantize, type HqqSpec } from './hqq.js';
export { quantizeAwqPass, awqOptions, awqScales } from './awq.js';
export { runSequential, type SequentialOptions } from './sequential.js';
export { type TiedHeadMode, findTiedTable, emitTiedTable } from './tied_head.js';
export { gathersWebGpuRefuses, gatherWebGpuWarning } from './gather_webgpu.js';
export { emitClustered, type ClusterStorage, type EmittedCluster } from './cluster_emit.js';
export * from './cluster.js';
export { rangesFromArrays, computeRange, collectStats, statsPoint, TensorStats, type CalibrationMethod, type CollectStatsOptions, type RangeOptions } from './calibrate.js';
export * from './quant_math.js';
export * from './weights.js';
export { writeQuantizedWeights, type WeightFormat, type WriteResult } from './write_weights.js';
export { quantizeWeightsStreaming, type StreamQuantizeOptions, type StreamQuantizeLayer } from './stream_nbits.js';
export { QuantizeWorkerError, type BandThread, type BandThreadFactory } from './nbits_pool.js';
export { nbitsJobRunner, type NBitsJob, type NBitsReply, type NBitsInitJob, type NBitsColsJob, type NBitsRowsJob } from './nbits_band_jobs.js';
export { convertFloat16Streaming, type StreamFloat16Options, type StreamFloat16Result } from './stream_float16.js';
export { packMatMulNBits } from './emit.js';
export { setMatMulNBitsAccuracyLevel } from './accuracy_level.js';

export { QUANTIZE_PASSES } from './passes.js';

// The package's one side effect: register its passes (a name already registered throws).
registerPasses(QUANTIZE_PASSES);
