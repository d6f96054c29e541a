import { describe, expect, it } from 'vitest';
import { GraphBuilder, classColumns, isRecurrentState, outputClassColumns } from '@whittle/graph';

/** A recurrent step: x [N, 8] and state [2, N, 16] in, logits [N, classes] and the next state out. */
function stepModel(stateIn: string, stateOut: string, classes: number, outShape: (string | number | null)[] = [2, 'N', 16]) {
  const b = new GraphBuilder('step');
  const x = b.input('x', 'float32', ['N', 8]);
  const s = b.input(stateIn, 'float32', [2, 'N', 16]);
  b.node('Identity', [s], {}, { outputNames: [stateOut] });
  b.node('Identity', [x], {}, { outputNames: ['logits'] });
  b.output('logits', 'float32', ['N', classes]);
  b.output(stateOut, 'float32', outShape);
  return b.model();
}

describe('which outputs hold classes', () => {
  it('classColumns: [N, classes] and [N, T, vocab] hold classes; one column, images and unknown sizes do not or may', () => {
    expect(classColumns([4, 10])).toBe(10);
    expect(classColumns([4, 7, 1000])).toBe(1000);
    expect(classColumns([4, 1])).toBeUndefined();
    expect(classColumns([1, 1, 64, 64])).toBeUndefined();
    expect(classColumns([4])).toBeUndefined();
    expect(classColumns(['N', 'classes'])).toBeNaN();
  });

  it('a state handed back to the next step is not class scores, whatever its rank; the logits beside it are', () => {
    for (const [i, o] of [['state', 'stateN'], ['h', 'hn'], ['hidden', 'hidden_out'], ['past_key_values.0.key', 'present.0.key']] as const) {
      const m = stepModel(i, o, 3);
      expect(isRecurrentState(m, o), `${i} → ${o}`).toBe(true);
      expect(outputClassColumns(m, o, [2, 4, 16])).toBeUndefined();
      expect(isRecurrentState(m, 'logits')).toBe(false);
      expect(outputClassColumns(m, 'logits', [4, 3])).toBe(3);
    }
    // exporters often declare the next state with unknown dims
    expect(isRecurrentState(stepModel('state', 'stateN', 3, [null, null, null]), 'stateN')).toBe(true);
  });

  it('feature outputs named as exporters name them hold hidden units, not classes; logits do', () => {
    const b = new GraphBuilder('encoder');
    const x = b.input('input_features', 'float32', ['N', 80, 'T']);
    for (const name of ['last_hidden_state', 'encoder_hidden_states', 'pooler_output', 'sentence_embedding', 'token_embeddings', 'logits']) {
      b.node('Identity', [x], {}, { outputNames: [name] });
      b.output(name, 'float32', ['N', 'T', 384]);
    }
    const m = b.model();
    for (const name of ['last_hidden_state', 'encoder_hidden_states', 'pooler_output', 'sentence_embedding', 'token_embeddings']) expect(outputClassColumns(m, name, [1, 10, 384]), name).toBeUndefined();
    expect(outputClassColumns(m, 'logits', [1, 10, 384])).toBe(384);
  });

  it('an output of another name, type or rank is not a state even with a same-shaped input', () => {
    expect(isRecurrentState(stepModel('state', 'scores', 3), 'scores')).toBe(false);
    expect(isRecurrentState(stepModel('state', 'stateN', 3, [2, 'N']), 'stateN')).toBe(false);
    expect(isRecurrentState(stepModel('state', 'stateN', 3, [3, 'N', 16]), 'stateN')).toBe(false);
    // declared shapes alone decide when no dims are observed
    expect(outputClassColumns(stepModel('state', 'stateN', 5), 'logits')).toBe(5);
  });
});
