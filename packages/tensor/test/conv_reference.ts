// float64 direct-loop references for the conv family tests (written independently of the kernels)
export interface Geo {
  strides?: number[];
  pads?: number[];
  dil?: number[];
}

const g2 = (g: Geo) => ({
  s: g.strides ?? [1, 1],
  p: g.pads ?? [0, 0, 0, 0],
  d: g.dil ?? [1, 1],
});

export function outDim(size: number, k: number, s: number, pb: number, pe: number, d: number, ceil = false): number {
  const span = size + pb + pe - ((k - 1) * d + 1);
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + pb) o--;
  return o;
}

/** y[n, m, oh, ow] = b[m] + Σ x[n, c, oh*s - p + i*d, ...] w[m, c - g*Cg, i, j]. */
export function refConv(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array | null, geo: Geo, group = 1) {
  const { s, p, d } = g2(geo);
  const [N, C, H, W] = xs as [number, number, number, number];
  const [M, Cg, kh, kw] = ws as [number, number, number, number];
  const OH = outDim(H, kh, s[0]!, p[0]!, p[2]!, d[0]!);
  const OW = outDim(W, kw, s[1]!, p[1]!, p[3]!, d[1]!);
  const Mg = M / group;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[m]! : 0;
          for (let cg = 0; cg < Cg; cg++) {
            const c = g * Cg + cg;
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const ih = oh * s[0]! - p[0]! + i * d[0]!;
                const iw = ow * s[1]! - p[1]! + j * d[1]!;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * C + c) * H + ih) * W + iw]! * w[((m * Cg + cg) * kh + i) * kw + j]!;
              }
          }
          y[((n * M + m) * OH + oh) * OW + ow] = acc;
        }
    }
  return { data: y, shape: [N, M, OH, OW] };
}

/** Transposed conv as a scatter: every x element adds x * w into the full output, then crop pads. */
export function refConvT(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array | null, geo: Geo, group = 1, outPad = [0, 0]) {
  const { s, p, d } = g2(geo);
  const [N, C, H, W] = xs as [number, number, number, number];
  const [, Mg, kh, kw] = ws as [number, number, number, number];
  const M = Mg * group;
  const Cg = C / group;
  const OH = s[0]! * (H - 1) + outPad[0]! + (kh - 1) * d[0]! + 1 - p[0]! - p[2]!;
  const OW = s[1]! * (W - 1) + outPad[1]! + (kw - 1) * d[1]! + 1 - p[1]! - p[3]!;
  const y = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) for (let k = 0; k < OH * OW; k++) y[(n * M + m) * OH * OW + k] = b ? b[m]! : 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++)
          for (let mg = 0; mg < Mg; mg++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const oh = ih * s[0]! + i * d[0]! - p[0]!;
                const ow = iw * s[1]! + j * d[1]! - p[1]!;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const m = g * Mg + mg;
                y[((n * M + m) * OH + oh) * OW + ow]! += x[((n * C + c) * H + ih) * W + iw]! * w[((c * Mg + mg) * kh + i) * kw + j]!;
              }
    }
  return { data: y, shape: [N, M, OH, OW] };
}

/** col[n, (c*kh+i)*kw+j, oh*OW+ow]. */
export function refIm2Col(x: Float64Array, xs: number[], k: number[], geo: Geo) {
  const { s, p, d } = g2(geo);
  const [N, C, H, W] = xs as [number, number, number, number];
  const [kh, kw] = k as [number, number];
  const OH = outDim(H, kh, s[0]!, p[0]!, p[2]!, d[0]!);
  const OW = outDim(W, kw, s[1]!, p[1]!, p[3]!, d[1]!);
  const K = C * kh * kw;
  const L = OH * OW;
  const col = new Float64Array(N * K * L);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              const ih = oh * s[0]! - p[0]! + i * d[0]!;
              const iw = ow * s[1]! - p[1]! + j * d[1]!;
              const v = ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : x[((n * C + c) * H + ih) * W + iw]!;
              col[(n * K + (c * kh + i) * kw + j) * L + oh * OW + ow] = v;
            }
  return { data: col, shape: [N, K, L] };
}

/** Pooling reference: max (first max wins, flattened NCHW index) or average. */
export function refPool(x: Float64Array, xs: number[], k: number[], geo: Geo & { ceil?: boolean; includePad?: boolean }, kind: 'max' | 'avg') {
  const { s, p, d } = g2(geo);
  const [N, C, H, W] = xs as [number, number, number, number];
  const [kh, kw] = k as [number, number];
  const OH = outDim(H, kh, s[0]!, p[0]!, p[2]!, d[0]!, geo.ceil);
  const OW = outDim(W, kw, s[1]!, p[1]!, p[3]!, d[1]!, geo.ceil);
  const y = new Float64Array(N * C * OH * OW);
  const idx = new Float64Array(N * C * OH * OW);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++, o++) {
          let best = -Infinity;
          let at = -1;
          let sum = 0;
          let count = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const ih = oh * s[0]! - p[0]! + i * d[0]!;
              const iw = ow * s[1]! - p[1]! + j * d[1]!;
              const inPadded = ih >= -p[0]! && ih < H + p[2]! && iw >= -p[1]! && iw < W + p[3]!;
              const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              if (geo.includePad ? inPadded : inside) count++;
              if (!inside) continue;
              const f = ((n * C + c) * H + ih) * W + iw;
              const v = x[f]!;
              sum += v;
              if (at < 0 || v > best) {
                best = v;
                at = f;
              }
            }
          y[o] = kind === 'max' ? best : sum / count;
          idx[o] = at;
        }
  return { data: y, indices: idx, shape: [N, C, OH, OW] };
}

/** ONNX Pad reference (numpy semantics per axis). */
export function refPad(x: Float64Array, xs: number[], pads: number[], mode: string, value: number) {
  const r = xs.length;
  const os = xs.map((dim, k) => dim + pads[k]! + pads[k + r]!);
  const n = os.reduce((a, b) => a * b, 1);
  const y = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    let rem = q;
    const coord = new Array<number>(r);
    for (let k = r - 1; k >= 0; k--) {
      coord[k] = rem % os[k]!;
      rem = Math.floor(rem / os[k]!);
    }
    let src = 0;
    let fill = false;
    for (let k = 0; k < r; k++) {
      const dim = xs[k]!;
      let i = coord[k]! - pads[k]!;
      if (i < 0 || i >= dim) {
        if (mode === 'constant') fill = true;
        else if (mode === 'edge') i = Math.min(Math.max(i, 0), dim - 1);
        else if (mode === 'wrap') i = ((i % dim) + dim) % dim;
        else {
          // reflect: bounce until inside
          while (i < 0 || i >= dim) {
            if (dim === 1) i = 0;
            else if (i < 0) i = -i;
            else i = 2 * (dim - 1) - i;
          }
        }
      }
      src = src * dim + i;
    }
    y[q] = fill ? value : x[src]!;
  }
  return { data: y, shape: os };
}

/** Drops the keys whose value is `undefined` (test tables leave geometry out; kernel options are exact-optional). */
export function defined<T extends Record<string, unknown>>(o: T): Defined<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
}

/** `T` with its possibly-undefined keys made optional instead. */
export type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };
