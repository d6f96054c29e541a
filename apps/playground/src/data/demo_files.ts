/** Paths (under the app's base URL) of the files build/demo_assets.ts generates and the page fetches. */
export const DEMO_FILES = {
  model: 'demo/lenet300100.onnx',
  test: 'demo/mnist-test.wmn',
  train: 'demo/mnist-train.wmn',
  manifest: 'demo/manifest.json',
} as const;

/** What demo/manifest.json says. */
export interface DemoManifest {
  model: { file: string; source: string; name: string };
  test: { file: string; count: number; split: string };
  train: { file: string; count: number; split: string };
}
