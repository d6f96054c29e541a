import type { AppContext } from '../app/context.js';
import { openModel } from '../app/open_model.js';
import { loadDemo } from '../data/demo.js';
import { byId, setStatus } from './dom.js';

async function openFile(ctx: AppContext, file: File): Promise<void> {
  if (!/\.onnx$/i.test(file.name)) {
    setStatus(byId('model-status'), `${file.name} is not an .onnx file`, 'error');
    return;
  }
  setStatus(byId('model-status'), `Reading ${file.name}…`);
  await openModel(ctx, new Uint8Array(await file.arrayBuffer()), file.name);
}

/** Open a model from the file picker, a drop on the drop zone, or the bundled demo. */
export function mountLoaders(ctx: AppContext): void {
  const input = byId<HTMLInputElement>('model-file');
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) void openFile(ctx, f);
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
    const f = [...(e.dataTransfer?.files ?? [])][0];
    if (f) void openFile(ctx, f);
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
