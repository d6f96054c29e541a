import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { runModel } from '../src/interpreter/run.js';
import '../src/interpreter/ops/index.js';
import { oneNode, randn } from './interpreter_harness.js';

/**
 * LinearAttention on cpu and webgpu against the recurrence written out per element in float64:
 * grouped query heads, a past state, per-head decay and one beta per step, for each update rule.
 */
const [B, T, HQ, HKV, DK, DV] = [2, 3, 4, 2, 3, 2];

/** The operator's recurrence, element by element. */
function reference(rule: string, q: Float64Array, k: Float64Array, v: Float64Array, s0: Float64Array, decay: Float64Array, beta: Float64Array, scale: number): { out: number[]; state: number[] } {
  const s = Array.from(s0);
  const out = new Array<number>(B * T * HQ * DV).fill(0);
  const S = (b: number, h: number, i: number, j: number): number => ((b * HKV + h) * DK + i) * DV + j;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < HKV; h++) {
        const kk = (i: number): number => k[(b * T + t) * HKV * DK + h * DK + i]!;
        const vv = (j: number): number => v[(b * T + t) * HKV * DV + h * DV + j]!;
        if (rule.startsWith('gated')) for (let i = 0; i < DK; i++) for (let j = 0; j < DV; j++) s[S(b, h, i, j)] = s[S(b, h, i, j)]! * Math.exp(decay[(b * T + t) * HKV + h]!);
        const write = Array.from({ length: DV }, (_, j) => {
          if (!rule.endsWith('delta')) return vv(j);
          let retrieved = 0;
          for (let i = 0; i < DK; i++) retrieved += s[S(b, h, i, j)]! * kk(i);
          return beta[b * T + t]! * (vv(j) - retrieved);
        });
        for (let i = 0; i < DK; i++) for (let j = 0; j < DV; j++) s[S(b, h, i, j)] = s[S(b, h, i, j)]! + kk(i) * write[j]!;
      }
      for (let hq = 0; hq < HQ; hq++) {
        const h = Math.floor(hq / (HQ / HKV));
        for (let j = 0; j < DV; j++) {
          let acc = 0;
          for (let i = 0; i < DK; i++) acc += q[(b * T + t) * HQ * DK + hq * DK + i]! * s[S(b, h, i, j)]!;
          out[(b * T + t) * HQ * DV + hq * DV + j] = scale * acc;
        }
      }
    }
  }
  return { out, state: s };
}

describeBackends('LinearAttention', ({ backend }) => {
  for (const rule of ['linear', 'gated', 'delta', 'gated_delta']) {
    it(`${rule}: grouped heads, past state, per-head decay, one beta per step`, async () => {
      const feeds = {
        q: randn([B, T, HQ * DK], 1), k: randn([B, T, HKV * DK], 2), v: randn([B, T, HKV * DV], 3), s: randn([B, HKV, DK, DV], 4),
        d: randn([B, T, HKV], 5, 0.3), beta: randn([B, T, 1], 6, 0.5),
      };
      const model = oneNode({ op: 'LinearAttention', feeds, inputs: ['q', 'k', 'v', 's', 'd', 'beta'], attrs: { q_num_heads: HQ, kv_num_heads: HKV, update_rule: rule, scale: 0.7 }, floatAttrs: ['scale'], outputs: ['float32', 'float32'], opset: 27 });
      const out = await runModel(model, feeds, { backend });
      const [y, state] = model.graph.outputs.map((o) => out.get(o.name)!);
      const f = async (name: keyof typeof feeds): Promise<Float64Array> => feeds[name].toFloat64();
      const want = reference(rule, await f('q'), await f('k'), await f('v'), await f('s'), await f('d'), await f('beta'), 0.7);
      expect([...y!.shape]).toEqual([B, T, HQ * DV]);
      expect([...state!.shape]).toEqual([B, HKV, DK, DV]);
      (await y!.toFloat64()).forEach((g, i) => expect(g).toBeCloseTo(want.out[i]!, 4));
      (await state!.toFloat64()).forEach((g, i) => expect(g).toBeCloseTo(want.state[i]!, 4));
    });
  }
});
