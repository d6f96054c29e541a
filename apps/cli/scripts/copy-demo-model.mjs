#!/usr/bin/env node
// Build step: copies the demo model (the test zoo's seeded LeNet-300-100) into assets/, which the
// package ships, so `whittle demo` needs no workspace and no private @whittle/testing.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const zoo = fileURLToPath(new URL('../../../packages/testing/zoo/', import.meta.url));
const assets = fileURLToPath(new URL('../assets/', import.meta.url));
const file = readdirSync(zoo).find((f) => /^lenet300100-.*\.onnx$/.test(f));
if (!file) {
  console.error(`copy-demo-model: no lenet300100-*.onnx in ${zoo} (train it with \`pnpm --filter @whittle/testing zoo:train lenet300100\`)`);
  process.exit(1);
}
mkdirSync(assets, { recursive: true });
copyFileSync(`${zoo}${file}`, `${assets}lenet300100.onnx`);
console.log(`copy-demo-model: ${file} -> assets/lenet300100.onnx`);
