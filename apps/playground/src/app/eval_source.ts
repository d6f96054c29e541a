import { mnistDataset } from '../data/mnist_dataset.js';
import { sampleDataset } from '../data/sample_data.js';
import { type DataFile, datasetFromFiles, datasetFromSourceFiles, isArrayFile, readDataFile } from '../data/user_data.js';
import { byId, h, setStatus } from '../ui/dom.js';
import type { PassData } from '../worker/protocol.js';
import type { EvalData, Store } from './state.js';

type Source = 'mnist' | 'sample' | 'files';

/** The evaluation data controls (#data-source, #sample-count, #data-files) and the data they select. */
export class EvalSource {
  private files: DataFile[] = [];
  /** Picked files that are a data source of their own (images, CSV, JSONL, text + tokenizer.json, a data spec), read when used. */
  private sourceFiles: File[] = [];
  private filesKey = '';
  /** Parsing of the last chosen files (awaited before the data is used). */
  private parsing: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store) {
    byId<HTMLSelectElement>('data-source').addEventListener('change', () => this.showControls());
    const picked = (e: Event): void => {
      const list = [...((e.target as HTMLInputElement).files ?? [])];
      const arrays = list.every((f) => isArrayFile(f.name));
      this.parsing = Promise.all(arrays ? list.map(readDataFile) : []).then(
        (files) => {
          this.files = files;
          this.sourceFiles = arrays ? [] : list;
          this.filesKey = list.map((f) => `${f.name}:${f.size}:${f.lastModified}`).join('|');
          setStatus(byId('eval-status'), `Read ${list.map((f) => f.name).join(', ')}; press Evaluate all.`);
        },
        (err: unknown) => {
          this.files = [];
          this.sourceFiles = [];
          setStatus(byId('eval-status'), (err as Error).message, 'error');
        },
      );
    };
    // files, or a whole folder (<input webkitdirectory>: paths keep their subfolders, e.g. class labels)
    byId<HTMLInputElement>('data-files').addEventListener('change', picked);
    byId<HTMLInputElement>('data-folder').addEventListener('change', picked);
  }

  private get source(): Source {
    return byId<HTMLSelectElement>('data-source').value as Source;
  }

  private showControls(): void {
    byId('sample-count-label').hidden = this.source !== 'sample';
    byId('data-files-label').hidden = this.source !== 'files';
  }

  /** Offer the sources that fit the loaded model (MNIST for the demo). */
  refresh(): void {
    const demo = this.store.state.model?.demo;
    const opts: [Source, string][] = [
      ...(demo ? [['mnist', `MNIST test split (${demo.manifest.test.count} digits, labeled)`] as [Source, string]] : []),
      ['sample', 'random sample inputs (seeded)'],
      ['files', 'your data (.npy / .pb per input, images, .wav audio, CSV, JSONL, text + tokenizer.json, a data spec)'],
    ];
    byId('data-source').replaceChildren(...opts.map(([v, t]) => h('option', { value: v }, t)));
    // big models: fewer random samples, so the first evaluation is quick
    const params = this.store.state.model?.analysis.parameters ?? 0;
    byId<HTMLInputElement>('sample-count').value = params > 10_000_000 ? '8' : params > 1_000_000 ? '16' : '64';
    this.showControls();
  }

  /** The selected evaluation data (throws with a message the page shows). */
  async current(): Promise<EvalData> {
    await this.parsing;
    const m = this.store.state.model;
    if (!m) throw new Error('open a model first');
    const inputs = m.analysis.inputs;
    switch (this.source) {
      case 'mnist': {
        const demo = m.demo!;
        return { key: 'mnist-test', label: 'MNIST test', dataset: mnistDataset(demo.test, inputs[0]!), info: { name: 'MNIST', split: demo.manifest.test.split, count: demo.test.count } };
      }
      case 'sample': {
        const n = Math.max(1, Math.min(10_000, Math.floor(Number(byId<HTMLInputElement>('sample-count').value) || 64)));
        const { dataset } = await sampleDataset(inputs, n, 0);
        return { key: `sample-${n}`, label: `${n} random samples`, dataset, info: { name: 'random inputs (seed 0, floats uniform in [0, 1))', count: n } };
      }
      case 'files': {
        if (this.sourceFiles.length) {
          const { dataset, description, count } = await datasetFromSourceFiles(this.sourceFiles, inputs);
          return { key: `files-${this.filesKey}`, label: 'your data', dataset, info: { name: `your data: ${description}`, count } };
        }
        if (!this.files.length) throw new Error('choose one .npy or .pb file per model input (and optionally labels.npy), or your images / CSV / JSONL / text with its tokenizer.json');
        const dataset = datasetFromFiles(this.files, inputs);
        const first = Object.values(dataset.inputs)[0]!;
        const count = first.data.length / Math.max(1, first.sampleShape.reduce((a, b) => a * b, 1));
        return { key: `files-${this.filesKey}`, label: 'your data', dataset, info: { name: `your data (${this.files.map((f) => f.base).join(', ')})`, count } };
      }
    }
  }

  /** Data for passes that calibrate or fine-tune: the demo's training subset, else the evaluation data. */
  async passData(): Promise<PassData | undefined> {
    const m = this.store.state.model;
    if (!m) return undefined;
    if (m.demo) return { dataset: mnistDataset(m.demo.train, m.analysis.inputs[0]!) };
    try {
      return { dataset: (await this.current()).dataset };
    } catch {
      return undefined; // passes that need data say so themselves
    }
  }
}
