import { readFileSync } from 'node:fs';
import { readModel } from '@whittle/onnx';
import { inferValueTypes, opsetVersion } from '@whittle/graph';
const m = readModel(readFileSync(process.argv[2]!));
for (const L of [512, 894, 895, 1024]) {
  const g = { ...m.graph, inputs: m.graph.inputs.map((v) => v.type?.kind === 'tensor' ? { ...v, type: { ...v.type, shape: [1, L] } } : v) };
  const t0 = performance.now();
  const r = inferValueTypes(g as any, { opset: opsetVersion(m) ?? 21 });
  const bad = [...r.types].filter(([, t]) => t.kind === 'tensor' && t.shape?.some((d) => typeof d === 'number' && d <= 0));
  console.log(L, (performance.now() - t0).toFixed(0), 'ms issues', r.issues.length, r.issues.slice(0, 2), 'nonpositive', bad.length, bad.slice(0, 2).map(([k, t]) => k + ' ' + JSON.stringify((t as any).shape)));
}
