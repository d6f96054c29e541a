/**
 * Child of the `quantize` suite's calibration: quantize-static (minmax, QDQ) of the torchvision-style
 * ResNet-18 at <size>² on 64 normal(0, 1) images (seed 5) in batches of 8, activations from
 * <runtime> ('interpreter' | 'onnxruntime'), and print wall and cpu seconds of the pass and the
 * resulting activation scales as JSON.
 *
 * `<root>` is a Whittle checkout: its packages are imported from their sources, so the same child
 * times an older commit's code (a worktree with its dependencies installed) against this one.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';

const [root, runtime, sizeArg] = process.argv.slice(2) as [string, 'interpreter' | 'onnxruntime', string];
const size = Number(sizeArg);
const load = (pkg: string, entry = 'index.ts') => import(pathToFileURL(join(root, 'packages', pkg, 'src', entry)).href);

// the APIs used here exist unchanged since before the calibration speed work
const graph = await load('graph');
const tensorPkg = await load('tensor');
const { torchvisionResnet18 } = await load('testing', 'exporters/index.ts');
await load('quantize');

const model = (await graph.normalizeModel(torchvisionResnet18({ height: size, width: size }))).model;
const per = 3 * size * size;
const rng = new tensorPkg.Rng(5);
const x = new Float32Array(64 * per);
for (let i = 0; i < x.length; i++) x[i] = rng.normal();
const batches = function* () {
  for (let b = 0; b < 8; b++) yield { input: tensorPkg.tensor(x.subarray(b * 8 * per, (b + 1) * 8 * per), [8, 3, size, size], 'float32', { backend: 'cpu' }) };
};
const ctx: Record<string, unknown> = { calibration: batches() };
if (runtime === 'onnxruntime') {
  const { ortActivationRuntime } = await load('onnx');
  Object.assign(ctx, { calibrationRuntime: 'onnxruntime', activationRuntime: ortActivationRuntime(ort) });
} else {
  // older code has no calibrationRuntime and always uses the interpreter
  ctx.calibrationRuntime = 'interpreter';
}
const t0 = performance.now();
const c0 = process.cpuUsage();
const r = await graph.runPass('quantize-static', model, {}, ctx);
const c = process.cpuUsage(c0);
const seconds = (performance.now() - t0) / 1000;
const scales: Record<string, number[]> = {};
for (const [name, t] of r.model.graph.initializers as Map<string, { dtype: string; dataSync(): ArrayLike<number> }>) {
  if (name.endsWith('scale') && t.dtype === 'float32') scales[name] = Array.from(t.dataSync());
}
console.log(JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6, scales }));
