import { corpusModel } from '@whittle/testing/corpus';
import { runPass } from '@whittle/graph';
import '@whittle/quantize';
const m = await (corpusModel as any)('vad-legacy');
const r = await runPass('convert-float16', m, {});
console.log(r.report.summary);
console.log(JSON.stringify((r.report.details as any).keptFloat32).slice(0, 600));
console.log(JSON.stringify((r.report.details as any).float32Nodes).slice(0, 800));
