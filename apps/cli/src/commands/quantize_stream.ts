/**
 * `whittle quantize stream <model> -o out.onnx`: weight-only int4/int8 (MatMulNBits) for models
 * larger than memory — weights stay in their external data file and are quantized one at a time.
 */
import type { Command } from 'commander';
import { rewriteModelFile } from '@whittle/onnx/node';
import { quantizeWeightsStreaming } from '@whittle/quantize';
import { userPath } from '../model_io.js';
import { createProgress } from '../progress.js';

export function addQuantizeStreamCommand(program: Command): void {
  const q = program.commands.find((c) => c.name() === 'quantize');
  if (!q) return;
  q.command('stream')
    .argument('<model>', 'input .onnx whose MatMul weights live in external data')
    .description('Weight-only MatMulNBits for models larger than memory: each MatMul weight is read, quantized and written alone; peak memory is about the largest weight')
    .requiredOption('-o, --output <file>', 'output .onnx (its data goes to <output>.data; written atomically, never over the input)')
    .option('--bits <n>', 'grid bits, 2..8 (<= 4 stored as 4-bit)', (v) => Number(v), 4)
    .option('--block-size <n>', 'block size along K (power of two >= 16)', (v) => Number(v), 32)
    .option('--asymmetric', 'asymmetric min/max grid instead of symmetric')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o: { output: string; bits: number; blockSize: number; asymmetric?: boolean; json?: boolean }) => {
      const progress = createProgress('quantize stream', { quiet: !!o.json });
      const out = userPath(o.output);
      let layers;
      try {
        const r = await rewriteModelFile(userPath(model), out, async (m, io) => {
          layers = await quantizeWeightsStreaming(m, io, { bits: o.bits, blockSize: o.blockSize, symmetric: !o.asymmetric, onProgress: (d, n, w) => progress.update(d / n, w) });
        });
        progress.stop();
        if (o.json) process.stdout.write(`${JSON.stringify({ output: out, ...r, layers }, null, 2)}\n`);
        else process.stdout.write(`quantized ${(layers ?? []).length} MatMul weights: ${(r.inputDataBytes / 1e6).toFixed(1)} MB of data -> ${(r.outputDataBytes / 1e6).toFixed(1)} MB\nwrote ${out}\n`);
      } finally {
        progress.stop();
      }
    });
}
