import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
import { wasmIm2colResident } from '../../../wasm/im2col_wasm.js';
import { wasmSgemmResident } from '../../../wasm/sgemm_wasm.js';
import { sgemm } from '../sgemm.js';
import { floatOutput, floatStorage } from './float_io.js';
import { im2colKernel } from './Im2Col.js';

/**
 * Inference conv2d (group 1) on the cpu: y[n] = w [M, K] @ im2col(x[n]) [K, L] (+ bias per row)
 * → [N, M, L]. Each image is unfolded by the WASM im2col straight into linear memory, where the
 * WASM sgemm reads it in place: no column tensor is allocated, copied out and staged back (on
 * LeNet-sized convolutions that round trip cost about as much as a third of the GEMM). Without
 * WASM it runs the Im2Col kernel and the JS sgemm.
 */
export const conv2dFusedKernel: KernelConfig<CpuBackend, 'Conv2dFused'> = {
  name: 'Conv2dFused',
  backend: 'cpu',
  strided: true,
  run([x, w, bias], attrs, backend) {
    const [N, C, H, W] = x!.shape as [number, number, number, number];
    const [sN, sC, sH, sW] = x!.strides as [number, number, number, number];
    const [M, K] = w!.shape as [number, number];
    const [OH, OW] = attrs.outShape;
    const L = OH * OW;
    const out = new Float32Array(N * M * L);
    const wv = { data: floatStorage(w!), off: w!.offset, rs: w!.strides[0]!, cs: w!.strides[1]! };
    if (bias) {
      const b = floatStorage(bias);
      for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) out.fill(b[bias.offset + m * bias.strides[0]!]!, (n * M + m) * L, (n * M + m + 1) * L);
    }
    const g = { kh: attrs.kernel[0], kw: attrs.kernel[1], sh: attrs.strides[0], sw: attrs.strides[1], dh: attrs.dilations[0], dw: attrs.dilations[1], pt: attrs.pads[0], pl: attrs.pads[1], OH, OW };
    const src = floatStorage(x!);
    let cols: Float32Array | null = null;
    for (let n = 0; n < N; n++) {
      const col = cols ? null : wasmIm2colResident(src, x!.offset + n * sN, [sC, sH, sW], C, H, W, g);
      if (col && wasmSgemmResident(M, L, K, 1, wv, col.at, col.end, out, n * M * L, L, !bias)) continue;
      // no WASM here: the Im2Col kernel (JS loops) for all images, then the JS sgemm
      cols ??= floatStorage(im2colKernel.run([x!], attrs, backend)[0]!);
      sgemm(M, L, K, 1, wv, { data: cols, off: n * K * L, rs: L, cs: 1 }, out, n * M * L, L);
    }
    return [floatOutput(backend, x!.dtype, [N, M, L], out)];
  },
};
