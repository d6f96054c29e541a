/**
 * The demo's model: Whittle's seeded LeNet-300-100, trained on MNIST (the test zoo's
 * `lenet300100`). The build copies it to `assets/lenet300100.onnx` (shipped in the package); in a
 * workspace checkout without a build it is read from the zoo folder of @whittle/testing. The CLI
 * has no runtime dependency on that private package.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readModel } from '@whittle/onnx';
import type { Model } from '@whittle/graph';
import { WhittleError } from '@whittle/tensor';

/** The demo model file is in neither place it is looked for. */
export class DemoModelMissingError extends WhittleError {
  constructor(message: string) {
    super('E_DEMO_MODEL', message);
  }
}

/** Where the built package keeps the demo model (same path from `src/` and `dist/`). */
export const DEMO_MODEL_PATH = fileURLToPath(new URL('../assets/lenet300100.onnx', import.meta.url));

function workspaceZooPath(): string | undefined {
  const dir = fileURLToPath(new URL('../../../packages/testing/zoo/', import.meta.url));
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).find((f) => /^lenet300100-.*\.onnx$/.test(f));
  return file === undefined ? undefined : `${dir}${file}`;
}

/** Reads the demo model; throws with the fix when neither the built asset nor the workspace zoo has it. */
export async function demoModel(): Promise<{ model: Model; bytes: Uint8Array; path: string }> {
  const path = existsSync(DEMO_MODEL_PATH) ? DEMO_MODEL_PATH : workspaceZooPath();
  if (path === undefined) throw new DemoModelMissingError(`whittle demo: the demo model is missing (looked for ${DEMO_MODEL_PATH}); run \`pnpm build\` in the Whittle workspace or reinstall the package`);
  const bytes = new Uint8Array(readFileSync(path));
  return { model: await readModel(bytes), bytes, path };
}
