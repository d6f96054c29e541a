import type { AppContext } from '../app/context.js';
import { openFiles, openModel } from '../app/open_model.js';
import { loadDemo } from '../data/demo.js';
import { byId, setStatus } from './dom.js';

/** Open dropped or picked files: one .onnx, plus its external data files when it has any. */
async function openPicked(ctx: AppContext, files: File[]): Promise<void> {
  if (!files.some((f) => /\.onnx$/i.test(f.name))) {
    setStatus(byId('model-status'), `${files.map((f) => f.name).join(', ')}: no .onnx file among them`, 'error');
    return;
  }
  await openFiles(ctx, files);
}

/** Open a model (with its external data files) from the file picker, a drop on the drop zone, or the bundled demo. */
export function mountLoaders(ctx: AppContext): void {
  const input = byId<HTMLInputElement>('model-file');
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    if (files.length) void openPicked(ctx, files);
    input.value = '';
  });
  const zone = byId('drop-zone');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) void openPicked(ctx, files);
  });
  // a file dropped next to the zone must not make the browser navigate away
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  byId('load-demo').addEventListener('click', async () => {
    setStatus(byId('model-status'), 'Loading the demo model and MNIST data…');
    try {
      const { bytes, assets } = await loadDemo();
      await openModel(ctx, bytes, 'lenet300100.onnx', assets);
    } catch (e) {
      setStatus(byId('model-status'), `Could not load the demo: ${(e as Error).message}`, 'error');
    }
  });
}
