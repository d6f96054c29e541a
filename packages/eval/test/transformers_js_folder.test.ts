import { describe, expect, it } from 'vitest';
import { LayoutError, folderVariantSource, parseTransformersJsFileName, syntheticSource, transformersJsSubModels } from '../src/index.js';

describe('Transformers.js folder sub-models', () => {
  it('groups onnx/ files by stem and dtype suffix (longest suffix first), ignoring external data', () => {
    expect(parseTransformersJsFileName('decoder_model_merged_q4f16.onnx')).toEqual({ stem: 'decoder_model_merged', dtype: 'q4f16' });
    expect(parseTransformersJsFileName('model_fp16.onnx')).toEqual({ stem: 'model', dtype: 'fp16' });
    expect(parseTransformersJsFileName('encoder_model.onnx')).toEqual({ stem: 'encoder_model', dtype: 'fp32' });
    expect(parseTransformersJsFileName('model.onnx_data')).toBeUndefined();
    // a stem that is only a suffix is a float32 model of that name
    expect(parseTransformersJsFileName('_q4.onnx')).toEqual({ stem: '_q4', dtype: 'fp32' });
    const subs = transformersJsSubModels(['model.onnx_data', 'vision_model_q4.onnx', 'text_model.onnx', 'vision_model_quantized.onnx', 'text_model_bnb4.onnx', 'text_model_uint8.onnx']);
    expect(subs).toEqual([
      { stem: 'text_model', files: { fp32: 'text_model.onnx', bnb4: 'text_model_bnb4.onnx', uint8: 'text_model_uint8.onnx' } },
      { stem: 'vision_model', files: { q4: 'vision_model_q4.onnx', q8: 'vision_model_quantized.onnx' } },
    ]);
  });

  it('makes every dtype from float32; without it, q4 / q4f16 from int8 and q8 kept; refuses the rest naming what can be made', () => {
    const float = { stem: 'encoder_model', files: { fp32: 'encoder_model.onnx', q8: 'encoder_model_quantized.onnx' } };
    for (const d of ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const) expect(folderVariantSource(float, d)).toEqual({ kind: 'float32', file: 'encoder_model.onnx' });
    const int8 = { stem: 'decoder_model_merged', files: { q8: 'decoder_model_merged_quantized.onnx' } };
    expect(folderVariantSource(int8, 'q4')).toEqual({ kind: 'int8', file: 'decoder_model_merged_quantized.onnx' });
    expect(folderVariantSource(int8, 'q8')).toEqual({ kind: 'copy', file: 'decoder_model_merged_quantized.onnx' });
    expect(() => folderVariantSource(int8, 'fp16')).toThrow(LayoutError);
    expect(() => folderVariantSource(int8, 'fp16')).toThrow(/'decoder_model_merged' has no float32 file .* q4, q4f16, q2, q2f16 \(re-quantized from decoder_model_merged_quantized\.onnx\), q8 \(copied\)/);
    const uint8 = { stem: 'm', files: { uint8: 'm_uint8.onnx' } };
    expect(folderVariantSource(uint8, 'q4f16')).toEqual({ kind: 'int8', file: 'm_uint8.onnx' });
    expect(() => folderVariantSource(uint8, 'q8')).toThrow(/dtypes it can have: q4, q4f16, q2, q2f16 \(re-quantized from m_uint8\.onnx\), uint8 \(copied\)$/);
    expect(folderVariantSource(uint8, 'uint8')).toEqual({ kind: 'copy', file: 'm_uint8.onnx' });
    expect(() => folderVariantSource({ stem: 'm', files: { q4: 'm_q4.onnx' } }, 'q4f16')).toThrow(/dtypes it can have: none/);
  });
});

describe('synthetic token-model inputs', () => {
  it('position_ids count 0..S-1, token_type_ids are 0, input_ids stay random below the vocabulary', async () => {
    const src = syntheticSource([
      { name: 'input_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
      { name: 'token_type_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
      { name: 'position_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
    ], { count: 2, intHigh: 1000, dims: { sequence: 5 } });
    for await (const c of src.chunks()) {
      expect(Array.from(c.inputs.position_ids!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
      expect(Array.from(c.inputs.token_type_ids!.data as BigInt64Array, Number)).toEqual(Array(10).fill(0));
      const ids = Array.from(c.inputs.input_ids!.data as BigInt64Array, Number);
      expect(ids.every((x) => x >= 0 && x < 1000)).toBe(true);
      expect(new Set(ids).size).toBeGreaterThan(5);
    }
  });

  it('with a past of length P, positions continue from P', async () => {
    const src = syntheticSource([
      { name: 'input_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
      { name: 'position_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
      { name: 'past_key_values.0.key', elemType: 'float32', shape: ['batch', 2, 'past', 4] },
    ], { count: 1, dims: { sequence: 3, past: 7 } });
    for await (const c of src.chunks()) expect(Array.from(c.inputs.position_ids!.data as BigInt64Array, Number)).toEqual([7, 8, 9]);
  });
});
