/** The evaluate status line: ok only when every variant ran in onnxruntime-web. */
import { describe, expect, test } from 'vitest';
import { evaluationStatus } from '../src/app/eval_status.js';
import { nothingChanged, pageHint } from '../src/app/page_hint.js';
import type { EvalData, Variant } from '../src/app/state.js';

const data = { key: 'sample-64', label: '64 random samples', info: { name: 'random inputs', count: 64 } } as unknown as EvalData;
const variant = (name: string, error?: string): Variant => ({ name, eval: { name, samples: error ? 0 : 64, ...(error ? { error } : {}) } }) as unknown as Variant;

describe('evaluation status', () => {
  test('every variant ran: ok, naming the data and runtime', () => {
    expect(evaluationStatus([variant('model'), variant('r1-int8')], data, 'onnxruntime-web 1.30.0 (wasm, 1 thread)')).toEqual({ kind: 'ok', text: 'Evaluated on 64 random samples (64 samples) in onnxruntime-web 1.30.0 (wasm, 1 thread).' });
  });

  test('a variant onnxruntime-web could not run: an error naming it and why, with what to do', () => {
    const st = evaluationStatus([variant('model', "Got invalid dimensions for input: state"), variant('r1-int8')], data, undefined);
    expect(st.kind).toBe('error');
    expect(st.text).toMatch(/^onnxruntime-web could not run model on 64 random samples .*: Got invalid dimensions for input: state — .*choose your own data\.$/);
  });
});

describe('page hint for a failed run', () => {
  test('a pass that needs training data is told where the page takes it; other failures get nothing added', () => {
    expect(pageHint(new Error("recipe step 0 (pass 'fine-tune') failed: fine-tune: needs training data (ctx.training / --data <csv|npz|jsonl|folder|…>)"))).toMatch(/Evaluate → Data/);
    expect(pageHint(new Error('readModel: protobuf parse failed'))).toBe('');
  });
});

describe('a run that changed nothing', () => {
  test('no step changed the model: a message quoting each step, no variant; one changed step is a result', () => {
    const noop = { pass: 'quantize-static', summary: '0 Conv/MatMul/Gemm nodes in the main graph', changed: false };
    expect(nothingChanged([noop])).toBe('Nothing changed: no step of the recipe applied to this model (quantize-static: 0 Conv/MatMul/Gemm nodes in the main graph); no variant added.');
    expect(nothingChanged([noop, { pass: 'quantize-weights', summary: '8-bit', changed: true }])).toBeUndefined();
  });
});
