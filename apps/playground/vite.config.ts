import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';
import { demoAssets, publicDirOf } from './build/demo_assets.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
// copying onnxruntime-web's 14 MB .wasm is most of the build; rolldown's timing report about it is noise
const quiet = { checks: { bundlerTimings: false } };
// error messages the page shows start with the error's class name (OnnxFormatError, PassError): keep it through minification
const bundle = { ...quiet, output: { keepNames: true } };

// Workspace packages resolve to their TypeScript sources ('@whittle/source'), so dev and build
// need no prior library build. The demo model, MNIST data and onnxruntime-web's .wasm are
// generated into a git-ignored public folder and served from the page's own origin.
export default defineConfig({
  root,
  publicDir: publicDirOf(root),
  resolve: { conditions: ['@whittle/source', ...defaultClientConditions] },
  plugins: [demoAssets(root)],
  worker: { format: 'es', rolldownOptions: bundle },
  // `mnist` (21 MB of JSON) is only reachable through @whittle/eval's lazy Node-side loader
  optimizeDeps: { exclude: ['mnist', 'onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 2500, reportCompressedSize: false, rolldownOptions: bundle },
  server: { port: 5173 },
});
