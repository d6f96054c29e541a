import type { Command } from 'commander';
import { type Model, attributeWeightLayers, listPasses, normalizeModel, opsetUpgradeBlockers, summarize, weightCoverage } from '@whittle/graph';
import { techniqueLines } from '../coverage_text.js';
import { formatBytes } from '@whittle/eval/format';
import type { InlineFunctionsResult } from '@whittle/onnx';
import { readInput } from '../model_io.js';
import { UsageError } from '../errors.js';

/** `whittle inspect <model>` and `whittle passes`. */
export function addInspectCommands(program: Command): void {
  program
    .command('inspect')
    .description('summarize a model: ops, parameters (initializers and weight Constant nodes; a quantized weight counts the weights it encodes, scales and zero points none) and bytes by dtype and by layer, FLOPs and multiply-adds estimate')
    .argument('<model>', '.onnx file')
    .option('--json', 'print the summary as JSON')
    .option('--no-front-end', 'report the graph as stored, without the front end techniques run first')
    .option('--dims <name=value,...>', 'sizes of named dynamic input dims for the FLOPs estimate (default 1 each), e.g. sequence=512,height=640')
    .action(async (input: string, o: { json?: boolean; frontEnd?: boolean; dims?: string }) => {
      let inlined: InlineFunctionsResult | undefined;
      let sorted: string[] = [];
      const raw = await readInput(input, { onFunctionsInlined: (r) => (inlined = r), onNodesSorted: (g) => (sorted = g) });
      const dims = o.dims === undefined ? undefined : parseDims(o.dims, raw);
      const s = summarize(raw, dims ? { dims } : {});
      // weights the graph decodes from constants (Deep Compression's sparse streams): counted decoded
      const { materializeComputedWeights } = await import('@whittle/eval/node');
      const decoded = await materializeComputedWeights(raw);
      const stored = s.parameters;
      if (decoded) s.parameters = summarize(decoded).parameters;
      const prepared = o.frontEnd === false ? undefined : await normalizeModel(raw);
      const cov = weightCoverage(prepared?.model ?? raw);
      const blockers = cov.opset < 21 ? opsetUpgradeBlockers(prepared?.model ?? raw, 21) : [];
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ opsets: raw.opsetImports, ...s, ...(inlined ? { localFunctions: inlined } : {}), ...(sorted.length ? { nodesSorted: sorted } : {}), frontEnd: prepared?.report, techniques: { ...cov, opsetUpgradeBlockers: blockers } }, null, 2)}\n`);
        return;
      }
      const w = (l: string): void => void process.stdout.write(`${l}\n`);
      w(`${input}: ${s.nodes} nodes, ${s.parameters} parameters${decoded ? ` (decoded by the graph from ${stored} stored elements)` : ''}, ${formatBytes(s.bytes)} of weights, ~${s.flops} FLOPs (${s.macs} multiply-adds) per sample${flopsCaveat(raw, s.assumedDims, dims)}`);
      w(`opsets: ${raw.opsetImports.map((x) => `${x.domain || 'ai.onnx'} ${x.version}`).join(', ')}`);
      // what the file holds is not what the summary counts when its local functions were inlined
      if (inlined) w(`local functions: ${inlined.inlined} call(s) inlined on read, as onnxruntime does${inlined.kept.length ? `; kept: ${inlined.kept.map((k) => `${k.function} (${k.reason})`).join(', ')}` : ''}`);
      if (sorted.length) w(`node order: the file's nodes are not in topological order (${sorted.map((p) => p || 'main graph').join(', ')}); sorted on read, as onnxruntime does, and written sorted`);
      w(`ops: ${Object.entries(s.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      w(`stored by dtype (elements as stored; a packed 4-bit byte is one): ${Object.entries(s.byDtype).map(([k, v]) => `${k} ${v.parameters} (${formatBytes(v.bytes)})`).join(', ')}`);
      for (const l of s.layers.filter((x) => x.parameters > 0 || x.bytes > 0)) w(`  ${l.node || '(unnamed)'} (${l.opType}): ${l.parameters} parameters, ${formatBytes(l.bytes)}, ${l.flops} FLOPs (${l.macs} multiply-adds)`);
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
function flopsCaveat(model: Model, assumed: readonly string[], given: Record<string, number> = {}): string {
  if (!assumed.length) return '';
  const dynamic = model.graph.inputs.flatMap((i) => {
    const shape = i.type?.kind === 'tensor' ? i.type.shape : undefined;
    const axes = (shape ?? []).flatMap((d, k) => (k > 0 && typeof d !== 'number' && !(typeof d === 'string' && d in given) ? [k] : []));
    return axes.length ? [`${i.name} axes ${axes.join(', ')}`] : [];
  });
  return dynamic.length ? ` (dynamic input dims taken as 1: ${dynamic.join('; ')}; --dims sizes named ones)` : '';
}

/** `--dims sequence=512,height=640`: positive sizes of dim names the model's inputs use. */
function parseDims(spec: string, model: Model): Record<string, number> {
  const named = new Set(model.graph.inputs.flatMap((i) => (i.type?.kind === 'tensor' ? (i.type.shape ?? []) : []).filter((d): d is string => typeof d === 'string' && d !== '')));
  const out: Record<string, number> = {};
  for (const part of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([^=]+)=(\d+)$/.exec(part);
    if (!m || Number(m[2]) < 1) throw new UsageError(`--dims: '${part}' is not name=positive-integer (e.g. --dims sequence=512)`);
    const name = m[1]!.trim();
    if (!named.has(name)) throw new UsageError(`--dims: the model's inputs have no dim named '${name}' (named dims: ${[...named].join(', ') || 'none'})`);
    out[name] = Number(m[2]);
  }
  return out;
}
