/**
 * The passes of @whittle/quantize, without registering them (no side effects): for code that runs
 * them as objects (`runPass(pass, model)`, `new PassManager().add(pass)`) or registers them itself.
 * The package root is the registering entry: importing it registers QUANTIZE_PASSES.
 * @module
 */
import { quantizeWeightsPass } from './rtn.js';
import { quantizeStaticPass } from './static.js';
import { quantizeDynamicPass } from './dynamic.js';
import { gptqPass } from './gptq.js';
import { convertFloat16Pass } from './float16.js';
import { clusterWeightsPass } from './cluster_pass.js';
import { qatPass } from './qat.js';
import { quantizeMixedPass } from './mixed.js';
import { smoothQuantPass } from './smooth_quant.js';
import { quantizeHqqPass } from './hqq.js';
import { quantizeAwqPass } from './awq.js';
import { quantizeBnb4Pass } from './bnb4.js';

export { quantizeWeightsPass, quantizeStaticPass, quantizeDynamicPass, gptqPass, convertFloat16Pass, clusterWeightsPass, qatPass, quantizeMixedPass, smoothQuantPass, quantizeHqqPass, quantizeAwqPass, quantizeBnb4Pass };

/** The passes this package registers (in this order), each declaring its CLI command. */
export const QUANTIZE_PASSES = [quantizeWeightsPass, quantizeStaticPass, quantizeDynamicPass, gptqPass, convertFloat16Pass, clusterWeightsPass, qatPass, quantizeMixedPass, smoothQuantPass, quantizeHqqPass, quantizeAwqPass, quantizeBnb4Pass] as const;
