import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { unsupported } from './util.js';

/**
 * The recurrent family (RNN, GRU, LSTM) from one driver: directions forward / reverse /
 * bidirectional, layout 0 ([seq, batch, …]) and 1 ([batch, seq, …]), sequence_lens (steps past
 * a batch entry's length leave its state unchanged and output zeros), initial states, clip,
 * activations with activation_alpha/beta.
 */
type Act = (x: Tensor) => Tensor;

function activation(name: string, alpha: number | undefined, beta: number | undefined, ctx: OpContext): Act {
  switch (name.toLowerCase()) {
    case 'sigmoid':
      return T.sigmoid;
    case 'tanh':
      return T.tanh;
    case 'relu':
      return T.relu;
    case 'leakyrelu':
      return (x) => T.leakyRelu(x, alpha ?? 0.01);
    case 'hardsigmoid':
      return (x) => T.hardSigmoid(x, alpha ?? 0.2, beta ?? 0.5);
    case 'affine':
      return (x) => T.addScalar(T.mulScalar(x, alpha ?? 1), beta ?? 0);
    case 'scaledtanh':
      return (x) => T.mulScalar(T.tanh(T.mulScalar(x, beta ?? 1)), alpha ?? 1);
    case 'softsign':
      return (x) => T.div(x, T.addScalar(T.abs(x), 1));
    case 'softplus':
      return T.softplus;
    default:
      return unsupported(ctx, `activation ${name}`);
  }
}

/** One time step: (x_t W^T precomputed, previous states, direction index) → new states [H, C?]. */
type Cell = (xw: Tensor, h: Tensor, c: Tensor | undefined) => [Tensor, Tensor | undefined];

interface Spec {
  gates: number;
  defaults: string[];
  makeCell: (r: Tensor, b: Tensor | undefined, p: Tensor | undefined, acts: Act[], ctx: OpContext, clip: (x: Tensor) => Tensor) => Cell;
  hasCell: boolean;
}

const row = (t: Tensor, d: number): Tensor => T.squeeze(T.slice(t, [d], [d + 1], [0]), [0]);

function recurrent(spec: Spec) {
  return async (inputs: readonly (Tensor | undefined)[], ctx: OpContext): Promise<(Tensor | undefined)[]> => {
    const [x0, w, r, b, seqLens, h0, c0, p] = inputs;
    const layout = ctx.int('layout', 0);
    const x = layout === 1 ? T.transpose(x0!, [1, 0, 2]) : x0!;
    const [S, B] = x.shape as [number, number, number];
    const H = ctx.intOpt('hidden_size') ?? r!.shape[2]!;
    const direction = ctx.string('direction', 'forward');
    const nDir = direction === 'bidirectional' ? 2 : 1;
    const names = ctx.node.attributes.has('activations') ? (ctx.attr('activations')!.value as string[]) : [];
    const alphas = ctx.floats('activation_alpha') ?? [];
    const betas = ctx.floats('activation_beta') ?? [];
    const clipV = ctx.floatOpt('clip');
    const clip = clipV === undefined ? (t: Tensor) => t : (t: Tensor) => T.clip(t, -clipV, clipV);
    if (spec.hasCell && ctx.int('input_forget', 0) !== 0) unsupported(ctx, 'input_forget');
    const lens = seqLens ? Array.from(await seqLens.toFloat64()) : undefined;
    const backend = x.backend;
    const ys: Tensor[][] = [];
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    for (let d = 0; d < nDir; d++) {
      const k = spec.defaults.length;
      const acts = spec.defaults.map((dflt, i) => {
        const j = d * k + i;
        return activation(names[j] ?? dflt, alphas[j], betas[j], ctx);
      });
      const wd = row(w!, d);
      const xw = T.matmul(x, T.transpose(wd, [1, 0])); // [S, B, G*H]
      const cell = spec.makeCell(row(r!, d), b ? row(b, d) : undefined, p ? row(p, d) : undefined, acts, ctx, clip);
      let h = h0 ? row(h0, d) : T.zeros([B, H], x.dtype, { backend });
      let c = spec.hasCell ? (c0 ? row(c0, d) : T.zeros([B, H], x.dtype, { backend })) : undefined;
      const reverse = direction === 'reverse' || d === 1;
      const out: Tensor[] = new Array<Tensor>(S);
      for (let s = 0; s < S; s++) {
        const t = reverse ? S - 1 - s : s;
        const [hn, cn] = cell(row(xw, t), h, c);
        if (lens && lens.some((l) => t >= l)) {
          const m = T.tensor(lens.map((l) => (t < l ? 1 : 0)), [B, 1], x.dtype, { backend });
          const keep = T.tensor(lens.map((l) => (t < l ? 0 : 1)), [B, 1], x.dtype, { backend });
          h = T.add(T.mul(hn, m), T.mul(h, keep));
          if (c && cn) c = T.add(T.mul(cn, m), T.mul(c, keep));
          out[t] = T.mul(hn, m);
        } else {
          h = hn;
          c = cn;
          out[t] = hn;
        }
      }
      ys.push(out);
      hs.push(h);
      if (c) cs.push(c);
    }
    // Y [S, nDir, B, H]
    let y = T.concat(ys.map((out) => T.concat(out.map((o) => T.reshape(o, [1, 1, B, H])), 0)), 1);
    let yh = T.concat(hs.map((t) => T.unsqueeze(t, [0])), 0);
    let yc = cs.length ? T.concat(cs.map((t) => T.unsqueeze(t, [0])), 0) : undefined;
    if (layout === 1) {
      y = T.transpose(y, [2, 0, 1, 3]);
      yh = T.transpose(yh, [1, 0, 2]);
      if (yc) yc = T.transpose(yc, [1, 0, 2]);
    }
    return spec.hasCell ? [y, yh, yc] : [y, yh];
  };
}

/** Split [B, G*H] into G gates. */
const gatesOf = (t: Tensor, g: number): Tensor[] => T.split(t, new Array<number>(g).fill(t.shape[1]! / g), 1);
/** Bias [2*G*H] → Wb + Rb as [G*H]. */
function bias(b: Tensor | undefined): Tensor | undefined {
  if (!b) return undefined;
  const [wb, rb] = T.split(b, [b.shape[0]! / 2, b.shape[0]! / 2], 0);
  return T.add(wb!, rb!);
}

registerOp(
  'RNN',
  recurrent({
    gates: 1,
    defaults: ['Tanh'],
    hasCell: false,
    makeCell: (r, b, _p, [f], _ctx, clip) => {
      const rt = T.transpose(r, [1, 0]);
      const bb = bias(b);
      return (xw, h) => {
        let g = T.add(xw, T.matmul(h, rt));
        if (bb) g = T.add(g, bb);
        return [f!(clip(g)), undefined];
      };
    },
  }),
);

registerOp(
  'GRU',
  recurrent({
    gates: 3,
    defaults: ['Sigmoid', 'Tanh'],
    hasCell: false,
    makeCell: (r, b, _p, [f, g], ctx, clip) => {
      const H = r.shape[1]!;
      const [rz, rr, rh] = T.split(r, [H, H, H], 0) as [Tensor, Tensor, Tensor];
      const rzr = T.transpose(T.concat([rz, rr], 0), [1, 0]);
      const rht = T.transpose(rh, [1, 0]);
      const lbr = ctx.int('linear_before_reset', 0) !== 0;
      const [wb, rb] = b ? (T.split(b, [3 * H, 3 * H], 0) as [Tensor, Tensor]) : [undefined, undefined];
      const [wbz, wbr, wbh] = wb ? gatesOf(T.reshape(wb, [1, 3 * H]), 3) : [];
      const [rbz, rbr, rbh] = rb ? gatesOf(T.reshape(rb, [1, 3 * H]), 3) : [];
      return (xw, h) => {
        const [xz, xr, xh] = gatesOf(xw, 3) as [Tensor, Tensor, Tensor];
        const [hz, hr] = gatesOf(T.matmul(h, rzr), 2) as [Tensor, Tensor];
        let zPre = T.add(xz, hz);
        let rPre = T.add(xr, hr);
        if (wbz) zPre = T.add(T.add(zPre, wbz), rbz!);
        if (wbr) rPre = T.add(T.add(rPre, wbr), rbr!);
        const z = f!(clip(zPre));
        const rg = f!(clip(rPre));
        let hPre: Tensor;
        if (lbr) {
          let hr2 = T.matmul(h, rht);
          if (rbh) hr2 = T.add(hr2, rbh);
          hPre = T.add(xh, T.mul(rg, hr2));
        } else {
          hPre = T.add(xh, T.matmul(T.mul(rg, h), rht));
          if (rbh) hPre = T.add(hPre, rbh);
        }
        if (wbh) hPre = T.add(hPre, wbh);
        const hh = g!(clip(hPre));
        const one = T.full([], 1, h.dtype, { backend: h.backend });
        return [T.add(T.mul(T.sub(one, z), hh), T.mul(z, h)), undefined];
      };
    },
  }),
);

registerOp(
  'LSTM',
  recurrent({
    gates: 4,
    defaults: ['Sigmoid', 'Tanh', 'Tanh'],
    hasCell: true,
    makeCell: (r, b, p, [f, g, hAct], _ctx, clip) => {
      const rt = T.transpose(r, [1, 0]);
      const bb = bias(b);
      const H = r.shape[1]!;
      const [pi, po, pf] = p ? T.split(p, [H, H, H], 0) : [];
      return (xw, h, c) => {
        let pre = T.add(xw, T.matmul(h, rt));
        if (bb) pre = T.add(pre, bb);
        let [i, o, fg, cc] = gatesOf(pre, 4) as [Tensor, Tensor, Tensor, Tensor];
        if (pi) i = T.add(i, T.mul(pi, c!));
        if (pf) fg = T.add(fg, T.mul(pf, c!));
        const it = f!(clip(i));
        const ft = f!(clip(fg));
        const ct = g!(clip(cc));
        const cNew = T.add(T.mul(ft, c!), T.mul(it, ct));
        if (po) o = T.add(o, T.mul(po, cNew));
        const ot = f!(clip(o));
        return [T.mul(ot, hAct!(cNew)), cNew];
      };
    },
  }),
);
