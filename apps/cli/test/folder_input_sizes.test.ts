/**
 * Made-up inputs for a sub-model of a Transformers.js folder take the sizes the folder's
 * preprocessor_config.json states: a speech encoder (input_features [batch, feature_size, frames]
 * through a stride-2 convolution, then a positional table of fixed length, as Whisper's) runs only
 * at those sizes; outside such a folder the run fails and the error says how to size the dims.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-folder-sizes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 8 mel bins × 20 frames → Conv(k3, s2, pad 1) → 10 positions + a [10, 6] positional table. */
function speechEncoder(): Uint8Array {
  const rng = new Rng(2);
  const b = new GraphBuilder('encoder');
  const w = Float32Array.from({ length: 6 * 8 * 3 }, () => rng.normal() * 0.2);
  const c = b.node('Conv', [b.input('input_features', 'float32', ['batch_size', 'feature_size', 'encoder_sequence_length']), b.initializer('conv.w', tensor(w, [6, 8, 3], 'float32', { backend: 'cpu' }))], { kernel_shape: attr.ints([3]), strides: attr.ints([2]), pads: attr.ints([1, 1]) });
  const t = b.node('Transpose', [c], { perm: attr.ints([0, 2, 1]) });
  const pos = Float32Array.from({ length: 10 * 6 }, () => rng.normal());
  b.nodeOutputs('Add', [t, b.initializer('pos', tensor(pos, [10, 6], 'float32', { backend: 'cpu' }))], {}, { outputNames: ['last_hidden_state'] });
  b.output('last_hidden_state', 'float32', ['batch_size', 10, 6]);
  return writeModel(b.model([{ domain: '', version: 17 }]));
}

describe('made-up inputs sized by a Transformers.js folder', () => {
  it('a sub-model in onnx/ beside preprocessor_config.json gets input_features [8, 20]; a lone copy fails with how to size the dims', async () => {
    const folder = join(dir, 'speech');
    mkdirSync(join(folder, 'onnx'), { recursive: true });
    const model = join(folder, 'onnx', 'encoder_model.onnx');
    writeFileSync(model, speechEncoder());
    writeFileSync(join(folder, 'preprocessor_config.json'), JSON.stringify({ feature_extractor_type: 'WhisperFeatureExtractor', feature_size: 8, nb_max_frames: 20 }));
    const copy = join(dir, 'elsewhere.onnx');
    copyFileSync(model, copy);
    // the baseline in the folder, a variant elsewhere: both run on the folder's sizes
    const r = await whittleInProcess('evaluate', model, copy, '--data', 'synthetic:2', '--no-latency', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/data: made-up inputs sized as .*preprocessor_config\.json states: input_features \[8, 20\]/);
    const rep = JSON.parse(r.stdout) as { rows: { name: string; fidelity?: { cosine: number } }[] };
    expect(rep.rows[1]!.fidelity!.cosine).toBeCloseTo(1, 6);
    const lone = await whittleInProcess('evaluate', copy, '--data', 'synthetic:2', '--no-latency');
    expect(lone.code).not.toBe(0);
    expect(lone.stderr).toMatch(/EvaluationError: onnxruntime could not run/);
    expect(lone.stderr).toMatch(/size them with a data spec: a \.yaml file with 'kind: synthetic' and 'synthetic: \{ count: 32, dims: \{ feature_size: <size>, encoder_sequence_length: <size> \} \}'/);
    // a pass calibrating on made-up data says the same
    const pass = await whittleInProcess('quantize', 'static', copy, '--data', 'synthetic:2', '-o', join(dir, 'never.onnx'));
    expect(pass.code).not.toBe(0);
    expect(pass.stderr).toMatch(/could not run the model/);
    expect(pass.stderr).toMatch(/--data synthetic:2 made up the sizes of the dynamic dims \(feature_size, encoder_sequence_length; see the 'data:' line\)/);
  });
});
