import type { Command } from 'commander';
import { type Model, attributeWeightLayers, listPasses, normalizeModel, opsetUpgradeBlockers, summarize, weightCoverage } from '@whittle/graph';
import { techniqueLines } from '../coverage_text.js';
import { formatBytes } from '@whittle/eval/format';
import { readInput } from '../model_io.js';

/** `whittle inspect <model>` and `whittle passes`. */
export function addInspectCommands(program: Command): void {
  program
    .command('inspect')
    .description('summarize a model: ops, parameters (initializers and weight Constant nodes) and bytes by dtype and by layer, FLOPs and multiply-adds estimate')
    .argument('<model>', '.onnx file')
    .option('--json', 'print the summary as JSON')
    .option('--no-front-end', 'report the graph as stored, without the front end techniques run first')
    .action(async (input: string, o: { json?: boolean; frontEnd?: boolean }) => {
      const raw = await readInput(input);
      const s = summarize(raw);
      const prepared = o.frontEnd === false ? undefined : await normalizeModel(raw);
      const cov = weightCoverage(prepared?.model ?? raw);
      const blockers = cov.opset < 21 ? opsetUpgradeBlockers(prepared?.model ?? raw, 21) : [];
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ opsets: raw.opsetImports, ...s, frontEnd: prepared?.report, techniques: { ...cov, opsetUpgradeBlockers: blockers } }, null, 2)}\n`);
        return;
      }
      const w = (l: string): void => void process.stdout.write(`${l}\n`);
      w(`${input}: ${s.nodes} nodes, ${s.parameters} parameters, ${formatBytes(s.bytes)} of weights, ~${s.flops} FLOPs (${s.macs} multiply-adds) per sample${flopsCaveat(raw, s.assumedDims)}`);
      w(`opsets: ${raw.opsetImports.map((x) => `${x.domain || 'ai.onnx'} ${x.version}`).join(', ')}`);
      w(`ops: ${Object.entries(s.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      w(`by dtype: ${Object.entries(s.byDtype).map(([k, v]) => `${k} ${v.parameters} (${formatBytes(v.bytes)})`).join(', ')}`);
      for (const l of s.layers.filter((x) => x.parameters > 0)) w(`  ${l.node} (${l.opType}): ${l.parameters} parameters, ${formatBytes(l.bytes)}, ${l.flops} FLOPs (${l.macs} multiply-adds)`);
      const attrs = Object.entries(attributeWeightLayers(raw));
      if (attrs.length) w(`learned parameters in ai.onnx.ml attributes (not counted above; no technique compresses them): ${attrs.map(([op, e]) => `${e.nodes} ${op} (${e.floats} floats)`).join(', ')}`);
      for (const l of techniqueLines(cov, prepared?.report, blockers)) w(l);
    });
  program
    .command('passes')
    .description('list the registered passes and their options')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      const all = listPasses();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      for (const p of all) {
        process.stdout.write(`${p.name}: ${p.description}\n`);
        for (const [k, spec] of Object.entries(p.options)) process.stdout.write(`    ${k} (${spec.type}${spec.default !== undefined ? `, default ${JSON.stringify(spec.default)}` : ''}): ${spec.description}\n`);
      }
    });
}

/**
 * What the FLOPs estimate could not know: it counts dynamic dims as 1, so a detector whose input
 * has dynamic H and W is counted at 1×1 pixels, which the figure alone does not say. Batch axes
 * (the first of each input) are left out: one sample is what it counts.
 */
function flopsCaveat(model: Model, assumed: readonly string[]): string {
  if (!assumed.length) return '';
  const dynamic = model.graph.inputs.flatMap((i) => {
    const shape = i.type?.kind === 'tensor' ? i.type.shape : undefined;
    const axes = (shape ?? []).flatMap((d, k) => (k > 0 && typeof d !== 'number' ? [k] : []));
    return axes.length ? [`${i.name} axes ${axes.join(', ')}`] : [];
  });
  return dynamic.length ? ` (dynamic input dims taken as 1: ${dynamic.join('; ')})` : '';
}
