import { beforeAll, describe } from 'vitest';
import { type BackendName, engine, setBackend } from '@whittle/tensor/node';
import { webGpuExpected } from '@whittle/tensor/node';

export interface BackendContext {
  /** The backend this copy of the suite runs on; it is also the current backend. */
  readonly backend: BackendName;
}

let gpuProbe: Promise<string | null> | null = null;

/** Resolve to null when webgpu initializes, else the reason it does not. */
function probeWebGpu(): Promise<string | null> {
  gpuProbe ??= engine()
    .initBackend('webgpu')
    .then(() => null)
    .catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
  return gpuProbe;
}

/**
 * Run the same cases on `cpu` and on `webgpu`. Where WebGPU is expected (SwiftShader installed,
 * VK_ICD_FILENAMES set, or WHITTLE_EXPECT_WEBGPU=1) a missing adapter FAILS the suite; where it
 * is not expected the webgpu copy is skipped with the reason in its name.
 */
export function describeBackends(name: string, fn: (ctx: BackendContext) => void, backends: readonly BackendName[] = ['cpu', 'webgpu']): void {
  for (const backend of backends) {
    if (backend === 'webgpu' && !webGpuExpected() && process.env.WHITTLE_SKIP_WEBGPU !== '0') {
      describe.skip(`${name} [webgpu] (skipped: no WebGPU driver on this machine — install Debian chromium for SwiftShader)`, () => fn({ backend }));
      continue;
    }
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        if (backend === 'webgpu') {
          const why = await probeWebGpu();
          if (why) throw new Error(`WebGPU was expected on this machine but is unavailable: ${why}`);
        }
        await setBackend(backend);
      });
      fn({ backend });
    });
  }
}
