/**
 * `whittle quantize stream <model> -o out.onnx`: weight-only int4/int8 (MatMulNBits, a tied token
 * table shared with GatherBlockQuantized, an untied one as GatherBlockQuantized) or float16 for models larger than memory — weights stay
 * in their external data file and are converted one at a time. Float32 and float16 weights are
 * quantized alike, each with scales of its own type (a float16 model stays float16).
 */
import type { Command } from 'commander';
import { rewriteModelFile } from '@whittle/onnx/node';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type StreamFloat16Result, type StreamQuantizeLayer, convertFloat16Streaming, gatherWebGpuWarning, nodeBandThreads, quantizeWeightsStreaming } from '@whittle/quantize/node';
import { NoCompressionError } from '@whittle/graph';
import { checkInputFile, checkOutputPath, userPath } from '../model_io.js';
import { createProgress } from '../progress.js';

export function addQuantizeStreamCommand(program: Command): void {
  const q = program.commands.find((c) => c.name() === 'quantize');
  if (!q) return;
  q.command('stream')
    .argument('<model>', 'input .onnx whose float32 or float16 MatMul weights live in external data')
    .description('Weight-only MatMulNBits (or --float16) for models larger than memory: each weight is read, converted and written alone; peak memory is about the largest weight')
    .requiredOption('-o, --output <file>', 'output .onnx (its data goes to <output>.data; written atomically, never over the input)')
    .option('--bits <n>', 'grid bits, 2..8 (2: 2-bit MatMulNBits codes, token tables 4-bit; 3-4: 4-bit; 5-8: 8-bit)', (v) => Number(v), 4)
    .option('--block-size <n>', 'block size along K (power of two >= 16)', (v) => Number(v), 32)
    .option('--asymmetric', 'asymmetric min/max grid instead of symmetric')
    .option('--tied-embedding <mode>', "a token table tied with the LM head: 'shared' (one 4-bit copy for GatherBlockQuantized and the head's MatMulNBits) or 'float'", 'shared')
    .option('--untied-embedding <mode>', "a token table read only by Gathers (not tied with the LM head): 'block' (4-bit GatherBlockQuantized) or 'float'", 'block')
    .option('--threads <n>', 'threads quantizing weights (node worker threads; the output bytes are the same for any count)', (v) => Number(v), Math.min(2, availableParallelism()))
    .option('--float16', 'convert float32 weights and computation to float16 instead (float32 inputs/outputs kept)')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o: { output: string; bits: number; blockSize: number; asymmetric?: boolean; tiedEmbedding: string; untiedEmbedding: string; threads: number; float16?: boolean; json?: boolean }) => {
      const progress = createProgress('quantize stream', { quiet: !!o.json });
      const out = userPath(o.output);
      checkInputFile(model);
      checkOutputPath(o.output, out, model);
      const onProgress = (d: number, n: number, w: string): void => progress.update(d / n, w);
      let layers: StreamQuantizeLayer[] | undefined;
      let float16: StreamFloat16Result | undefined;
      let webGpu = '';
      try {
        const r = await rewriteModelFile(userPath(model), out, async (m, io) => {
          if (o.float16) {
            float16 = await convertFloat16Streaming(m, io, { onProgress });
            // thrown inside the rewrite, so no file is written: an unchanged copy is not a result
            if (!float16.changed) throw new NoCompressionError(`--float16 changed nothing in '${model}': no float32 weight or computation to convert (${float16.summary})`, 'nothing to convert');
          } else {
            layers = await quantizeWeightsStreaming(m, io, { bits: o.bits, blockSize: o.blockSize, symmetric: !o.asymmetric, tiedEmbedding: o.tiedEmbedding as 'shared' | 'float', untiedEmbedding: o.untiedEmbedding as 'block' | 'float', threads: o.threads, bandThreads: nodeBandThreads, onProgress });
            // thrown inside the rewrite, so no file is written
            if (layers.length === 0) throw new NoCompressionError(`no float32 or float16 2-D MatMul weight in external data in '${model}': quantize stream converts weights stored in an external data file; for weights stored inline use 'whittle quantize weights --format matmulnbits'`, 'nothing to quantize');
            webGpu = gatherWebGpuWarning(m);
          }
        });
        progress.stop();
        // weights stored inline are not streamed: the graph pass converts them in memory, and its summary says how many
        const half = (layers ?? []).filter((l) => l.dataType === 'float16').length;
        const halfNote = half ? ` (${half} float16 weight${half > 1 ? 's' : ''} quantized with float16 scales, float16 activations kept)` : '';
        // what reads the quantized weights now: MatMul weights, untied and tied token tables
        const count = (e: StreamQuantizeLayer['emitted']): number => (layers ?? []).filter((l) => l.emitted === e).length;
        const [mm, gbq, tied] = [count('MatMulNBits'), count('GatherBlockQuantized'), count('GatherBlockQuantized+MatMulNBits')];
        const kinds = gbq + tied ? `; ${mm} as MatMulNBits${gbq ? `, ${gbq} token table${gbq > 1 ? 's' : ''} as GatherBlockQuantized` : ''}${tied ? `, ${tied} tied token table${tied > 1 ? 's' : ''} shared by GatherBlockQuantized and MatMulNBits` : ''}` : '';
        // GatherBlockQuantized has no 2-bit codes; a 3-bit grid has no container of its own
        const wide = o.bits === 2 && gbq + tied ? `; ${gbq + tied} token table${gbq + tied > 1 ? 's' : ''} stored in 4-bit containers (GatherBlockQuantized has no 2-bit codes)` : o.bits === 3 && layers?.length ? '; 3-bit codes in 4-bit containers (file size as 4-bit)' : '';
        const done = float16 ? (float16.converted ? `converted ${float16.converted} weights to float16` : `no float32 weight in external data; the graph pass converted what is inline (${float16.summary})`) : `quantized ${(layers ?? []).length} weights${halfNote}${kinds}${wide}`;
        // no external data either way (inline weights, converted by the graph pass): the files' sizes say what changed
        const sizes = r.inputDataBytes + r.outputDataBytes === 0 ? `model file ${(statSync(userPath(model)).size / 1e6).toFixed(2)} MB -> ${(statSync(out).size / 1e6).toFixed(2)} MB` : `${(r.inputDataBytes / 1e6).toFixed(1)} MB of data -> ${(r.outputDataBytes / 1e6).toFixed(1)} MB`;
        if (o.json) process.stdout.write(`${JSON.stringify({ output: out, ...r, ...(float16 ? { float16 } : { layers }), warnings: webGpu ? [webGpu] : [] }, null, 2)}\n`);
        else process.stdout.write(`${done}: ${sizes}\n${webGpu ? `warning: ${webGpu}\n` : ''}wrote ${out}\n`);
      } finally {
        progress.stop();
      }
    });
}
