// The browser consumer: bundled by Vite from the installed tarballs, run in headless Chromium by
// ../run.mjs, which compares the result with the Node consumer's.
import { pruneMlp } from './prune_mlp.mjs';

pruneMlp().then(
  (r) => { window.__result = r; },
  (e) => { window.__error = `${e?.name}: ${e?.message}\n${e?.stack}`; },
);
