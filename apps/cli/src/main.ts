/**
 * `whittle`: compress ONNX models from the command line. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { runWhittle } from './program.js';

// `whittle inspect m.onnx | head`: the reader went away; that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await runWhittle(process.argv.slice(2));
