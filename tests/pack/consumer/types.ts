// Type-checked by ../run.mjs against the installed tarballs' .d.ts files, once with Node's
// resolution (nodenext) and once with a bundler's: every export's types resolve, and the public
// types are usable from a strict consumer without the workspace's devDependencies.
import { type Model, GraphBuilder, runRecipe, type RecipeResult } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { pruneUnstructured, PRUNE_PASSES } from '@whittle/prune';
import { quantizeWeightsPass, QUANTIZE_PASSES } from '@whittle/quantize';
import * as lowrank from '@whittle/lowrank';
import * as distill from '@whittle/distill';
import * as distillNode from '@whittle/distill/node';
import * as evaluation from '@whittle/eval';
import * as evalNode from '@whittle/eval/node';
import { Rng, tensor, type Tensor, WhittleError } from '@whittle/tensor';
import * as tensorNode from '@whittle/tensor/node';

export async function compress(bytes: Uint8Array): Promise<Uint8Array> {
  const model: Model = readModel(bytes);
  const r: RecipeResult = await runRecipe(model, { passes: [{ pass: pruneUnstructured.name }, { pass: quantizeWeightsPass.name, options: { bits: 4 } }] });
  return writeModel(r.model);
}
export const t: Tensor = tensor([1, 2], [2]);
export const n: number = new Rng(1).normal();
export const all = [PRUNE_PASSES.length, QUANTIZE_PASSES.length, lowrank, distill, distillNode, evaluation, evalNode, tensorNode, readModelFile, GraphBuilder, WhittleError];
