import type { Command } from 'commander';
import { listPasses, summarize } from '@whittle/graph';
import { formatBytes } from '@whittle/eval';
import { readInput } from '../model_io.js';

/** `whittle inspect <model>` and `whittle passes`. */
export function addInspectCommands(program: Command): void {
  program
    .command('inspect')
    .description('summarize a model: ops, parameters and bytes by dtype and by layer, FLOPs estimate')
    .argument('<model>', '.onnx file')
    .option('--json', 'print the summary as JSON')
    .action(async (input: string, o: { json?: boolean }) => {
      const model = await readInput(input);
      const s = summarize(model);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ opsets: model.opsetImports, ...s }, null, 2)}\n`);
        return;
      }
      const w = (l: string): void => void process.stdout.write(`${l}\n`);
      w(`${input}: ${s.nodes} nodes, ${s.parameters} parameters, ${formatBytes(s.bytes)} of weights, ~${s.flops} FLOPs per sample`);
      w(`opsets: ${model.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}`);
      w(`ops: ${Object.entries(s.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      w(`by dtype: ${Object.entries(s.byDtype).map(([k, v]) => `${k} ${v.parameters} (${formatBytes(v.bytes)})`).join(', ')}`);
      for (const l of s.layers.filter((x) => x.parameters > 0)) w(`  ${l.node} (${l.opType}): ${l.parameters} parameters, ${formatBytes(l.bytes)}, ${l.flops} FLOPs`);
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
