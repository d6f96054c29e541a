// Large models are read, quantized and written in buffers of hundreds of megabytes. On Linux with
// glibc those buffers live in 4 KiB pages unless malloc is told to ask for transparent huge pages;
// on virtual machines with nested paging, first-touch faults and TLB misses on 4 KiB pages then
// bound reading a model to a few hundred MB/s (measured: 0.37 GB/s plain read vs 3.6 GB/s with
// huge pages). glibc reads its tunables only at process start, so the command re-launches itself
// once with `glibc.malloc.hugetlb=1` set, when its inputs are large enough to repay the second
// start-up (~0.2 s on 2 cores).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Inputs below this many bytes are read faster than a second process starts. */
export const LARGE_INPUT_BYTES = 64 * 2 ** 20;

const sizeOf = (path) => {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : -1;
  } catch {
    return -1;
  }
};

/**
 * Whether the files named by these command-line arguments (`--flag=value` too) reach `threshold`
 * bytes, counting beside each .onnx file the files whose names start with its stem (its external
 * data: `model.onnx.data`, `model.onnx_data`, `model.data`).
 * @param {readonly string[]} args
 * @param {number} [threshold]
 * @returns {boolean}
 */
export function namesLargeFiles(args, threshold = LARGE_INPUT_BYTES) {
  let total = 0;
  for (const arg of args) {
    const path = arg.startsWith('--') && arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : arg;
    const size = sizeOf(path);
    if (size < 0) continue;
    total += size;
    if (/\.onnx$/i.test(path)) {
      const name = basename(path);
      const stem = name.slice(0, -'.onnx'.length);
      let siblings = [];
      try {
        siblings = readdirSync(dirname(path));
      } catch {
        // unreadable folder: the model alone counts
      }
      for (const f of siblings) if (f !== name && f.startsWith(stem) && !/\.onnx$/i.test(f)) total += Math.max(0, sizeOf(join(dirname(path), f)));
    }
    if (total >= threshold) return true;
  }
  return false;
}

const TUNABLE = 'glibc.malloc.hugetlb';

/**
 * The environment to re-launch this process with so that glibc's malloc backs large buffers with
 * transparent huge pages, or undefined when that would change nothing: not Linux, not glibc ≥ 2.35,
 * transparent huge pages disabled, the tunable already set (any value: the user's choice wins), or
 * `WHITTLE_HUGE_PAGES=0`.
 * @param {NodeJS.ProcessEnv} env
 * @returns {NodeJS.ProcessEnv | undefined}
 */
export function hugePageEnv(env = process.env) {
  if (process.platform !== 'linux' || env.WHITTLE_HUGE_PAGES === '0') return undefined;
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.split(':').some((t) => t.startsWith(`${TUNABLE}=`))) return undefined;
  const glibc = /** @type {{ glibcVersionRuntime?: string }} */ (process.report.getReport().header).glibcVersionRuntime;
  const [major = 0, minor = 0] = (glibc ?? '').split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 35)) return undefined;
  let thp = '';
  try {
    thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
  } catch {
    return undefined;
  }
  if (!/\[(always|madvise)\]/.test(thp)) return undefined;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${TUNABLE}=1` : `${TUNABLE}=1` };
}
