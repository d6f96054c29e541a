// Reproduce the zoo language model: `pnpm --filter @whittle/testing zoo:train-lm`.
// Trains the byte-level BPE tokenizer and then the decoder (Whittle's fit, lm loss, cpu) on the
// TypeScript lib corpus's train files with the seeded LM_RECIPE, writes packages/testing/zoo/
// lm-<recipe>.onnx, lm-tokenizer.json and lm-tokenizer_config.json, and prints the held-out
// perplexity in onnxruntime-node next to the unigram perplexity. The same recipe gives the same bytes.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModelFile } from '@whittle/onnx/node';
import { ZOO_DIR } from '../src/zoo.js';
import { lmCorpus } from '../src/lm/corpus.js';
import { decoderPerplexityOrt } from '../src/lm/evaluate.js';
import { unigramPerplexity } from '../src/lm/perplexity.js';
import { trainDecoderLm } from '../src/lm/train.js';
import { packDocuments, tokenWindows } from '../src/lm/windows.js';
import { LM_RECIPE, LM_TOKENIZER, lmZooName, trainLmTokenizer } from '../src/lm/zoo.js';

const t0 = performance.now();
const secs = (): string => ((performance.now() - t0) / 1000).toFixed(1);
const corpus = lmCorpus();
const tok = trainLmTokenizer();
writeFileSync(LM_TOKENIZER.json, `${JSON.stringify(tok.tokenizerJson(), null, 2)}\n`);
writeFileSync(LM_TOKENIZER.config, `${JSON.stringify(tok.tokenizerConfigJson(LM_RECIPE.context), null, 2)}\n`);
const train = packDocuments(corpus.train.map((f) => tok.encode(f.text)), tok.endOfText);
const heldOut = packDocuments(corpus.heldOut.map((f) => tok.encode(f.text)), tok.endOfText);
console.log(`${secs()} s  tokenizer: vocab ${tok.vocabSize}; typescript ${corpus.typescriptVersion}: ${corpus.train.length} train files (${train.length} tokens), held out ${corpus.heldOut.map((f) => f.name).join(', ')} (${heldOut.length} tokens)`);
const windows = tokenWindows(train, LM_RECIPE.context);
let lastLog = 0;
const result = await trainDecoderLm(LM_RECIPE, tok.vocabSize, windows, (f, m) => {
  if (m.includes('loss') || f - lastLog >= 0.05) {
    lastLog = f;
    console.log(`${secs()} s  ${m}`);
  }
});
const trainSeconds = secs();
const path = join(ZOO_DIR, lmZooName());
await writeModelFile(result.model, path);
const ppl = await decoderPerplexityOrt(path, result.config, heldOut);
const uni = unigramPerplexity(train, heldOut, tok.vocabSize);
console.log(`${lmZooName()}: ${result.parameters} parameters, ${result.steps} steps, trained in ${trainSeconds} s; epoch losses ${result.losses.map((l) => l.toFixed(4)).join(', ')}`);
console.log(`held-out perplexity (onnxruntime-node, ${ppl.tokens} tokens in windows of ${LM_RECIPE.context}): ${ppl.perplexity.toFixed(2)} (next-token accuracy ${(ppl.nextTokenAccuracy * 100).toFixed(1)} %); unigram perplexity (train frequencies, add-one): ${uni.toFixed(2)}`);
console.log(`files: ${path} ${statSync(path).size} bytes; ${LM_TOKENIZER.json} ${statSync(LM_TOKENIZER.json).size} bytes; ${secs()} s total`);
