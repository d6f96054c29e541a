import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import type { PadMode } from '../../../kernel_names.js';
import { Uniforms, castExpr, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';

/** WGSL statements mapping `i` (coordinate minus begin) into [0, d) by `mode`; sets `out = false` for fill. */
function mapCoord(mode: PadMode): string {
  switch (mode) {
    case 'constant':
      return 'if (i < 0 || i >= d) { inside = false; }';
    case 'edge':
      return 'i = clamp(i, 0, d - 1);';
    case 'wrap':
      return 'i = ((i % d) + d) % d;';
    case 'reflect':
      return 'if (d == 1) { i = 0; } else { let p = 2 * (d - 1); i = ((i % p) + p) % p; if (i >= d) { i = p - i; } }';
  }
}

/** One thread per output element; any rank, any strides; mode and rank in the key. */
export const padKernel: KernelConfig<WebGpuBackend, 'Pad'> = {
  name: 'Pad',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const pads = attrs.pads;
    const mode = attrs.mode;
    const r = x.shape.length;
    const outShape = x.shape.map((d, k) => d + pads[k]! + pads[k + r]!);
    const size = sizeOf(outShape);
    const u = new Uniforms();
    u.add(size, x.offset);
    const os = u.add(...outShape);
    const is = u.add(...x.shape);
    const st = u.add(...x.strides);
    const bg = u.add(...pads.slice(0, r));
    const fillAt = wgslType(x.dtype) === 'f32' ? u.addF32(attrs.value) : u.add(attrs.value);
    const fill = wgslType(x.dtype) === 'f32' ? castExpr(`bitcast<f32>(u[${fillAt}])`, 'float32', x.dtype) : `${wgslType(x.dtype)}(u[${fillAt}])`;
    const lines = ['  var r = idx;', '  var src = u[1];', '  var inside = true;'];
    for (let k = r - 1; k >= 0; k--) {
      lines.push(`  { let d = u[${is + k}]; var i = r % u[${os + k}] - u[${bg + k}]; r = r / u[${os + k}]; ${mapCoord(mode)} src = src + i * u[${st + k}]; }`);
    }
    lines.push(`  if (inside) { Y[idx] = X[src]; } else { Y[idx] = ${fill}; }`);
    return backend.runProgram({
      key: `Pad:${x.dtype}:${r}:${mode}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', lines.join('\n'))}`,
      inputs: [x],
      outputs: [{ dtype: x.dtype, shape: outShape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/**
 * Adjoint of Pad (gradient of reflect/edge/wrap): one program per padded axis; each thread owns
 * one element of the narrower result and sums the padded elements that map onto it.
 */
export const padAdjointKernel: KernelConfig<WebGpuBackend, 'PadAdjoint'> = {
  name: 'PadAdjoint',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const inShape = attrs.inputShape;
    const pads = attrs.pads;
    const mode = attrs.mode;
    const r = inShape.length;
    let cur = inputs[0] as GpuTensor;
    const shape = [...cur.shape];
    const result = cur.dtype === 'float16' ? roundF16('acc') : 'acc';
    for (let k = 0; k < r; k++) {
      if (pads[k] === 0 && pads[k + r] === 0) continue;
      const outDim = shape[k]!;
      const d = inShape[k]!;
      const inner = sizeOf(shape.slice(k + 1));
      shape[k] = d;
      const size = sizeOf(shape);
      const u = new Uniforms();
      u.add(size, d, outDim, inner, pads[k]!);
      const next = backend.runProgram({
        key: `PadAdjoint:${cur.dtype}:${mode}`,
        source: () => `${declareBindings([{ name: 'G', dtype: cur.dtype }], [{ name: 'Y', dtype: cur.dtype }])}
${mainLinear('u[0]', `  let d = u[1]; let od = u[2]; let inner = u[3]; let b = u[4];
  let q = idx % inner;
  let t = (idx / inner) % d;
  let outer = idx / (inner * d);
  var acc = 0.0;
  for (var o = 0; o < od; o++) {
    var i = o - b;
    var inside = true;
    ${mapCoord(mode)}
    if (inside && i == t) { acc = acc + G[(outer * od + o) * inner + q]; }
  }
  Y[idx] = ${result};`)}`,
        inputs: [cur],
        outputs: [{ dtype: cur.dtype, shape: [...shape] }],
        uniforms: u.values,
        dispatch: dispatch1D(size),
      })[0]!;
      if (cur !== inputs[0]) backend.release(cur.handle);
      cur = next;
    }
    if (cur === inputs[0]) {
      // nothing padded: return a copy so the output owns its storage
      return backend.runProgram({
        key: `PadAdjointCopy:${cur.dtype}`,
        source: () => `${declareBindings([{ name: 'G', dtype: cur.dtype }], [{ name: 'Y', dtype: cur.dtype }])}
${mainLinear('u[0]', '  Y[idx] = G[idx];')}`,
        inputs: [cur],
        outputs: [{ dtype: cur.dtype, shape: cur.shape }],
        uniforms: [sizeOf(cur.shape)],
        dispatch: dispatch1D(sizeOf(cur.shape)),
      });
    }
    return [cur];
  },
};
