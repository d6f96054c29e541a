/**
 * Run the command line in the test's own process (the program of src/program.ts, as the bin runs
 * it) and capture what it prints: for the many cases that check a usage or input error, where
 * spawning a CLI from TypeScript sources costs seconds of start-up apiece. The spawned tests keep
 * covering the bin itself (exit codes, signals, stdio).
 */
import { runWhittle } from '../src/program.js';

/** Exit code, stdout and stderr of `whittle ...args` run in this process. */
export async function whittleInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await runWhittle(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/**
 * As {@link whittleInProcess}, started from folder `cwd` as the spawned tests start the bin (cwd
 * and INIT_CWD there): relative paths in `args` resolve in it. Both are restored afterwards.
 */
export async function whittleInProcessAt(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const before = process.cwd();
  const initCwd = process.env.INIT_CWD;
  process.chdir(cwd);
  process.env.INIT_CWD = cwd;
  try {
    return await whittleInProcess(...args);
  } finally {
    process.chdir(before);
    if (initCwd === undefined) delete process.env.INIT_CWD;
    else process.env.INIT_CWD = initCwd;
  }
}
