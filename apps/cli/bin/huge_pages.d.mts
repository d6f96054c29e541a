/**
 * The environment to re-launch a Node process with so that glibc's malloc backs large buffers with
 * transparent huge pages, or undefined when that would change nothing (not Linux, glibc < 2.35,
 * huge pages disabled, the tunable already set, or `WHITTLE_HUGE_PAGES=0`).
 */
export declare function hugePageEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv | undefined;

/** Inputs below this many bytes are read faster than a second process starts. */
export declare const LARGE_INPUT_BYTES: number;

/**
 * Whether the files named by these command-line arguments (`--flag=value` too) reach `threshold`
 * bytes (default {@link LARGE_INPUT_BYTES}), counting beside each .onnx file the files whose names
 * start with its stem (its external data).
 */
export declare function namesLargeFiles(args: readonly string[], threshold?: number): boolean;
