import type { LayerStat } from '../worker/protocol.js';
import { h } from './dom.js';
import { count, formatBytes } from './format.js';

type Key = 'order' | 'name' | 'opType' | 'parameters' | 'bytes' | 'gzipBytes' | 'flops';

const COLUMNS: [Key, string][] = [
  ['name', 'Layer'],
  ['opType', 'Op'],
  ['parameters', 'Parameters'],
  ['bytes', 'Bytes'],
  ['gzipBytes', 'gzip'],
  ['flops', 'FLOPs'],
];

/**
 * The per-layer table: graph order until a header is clicked (numbers sort largest first, a
 * second click flips), rows hidden by the filter keep their place.
 */
export class LayerTable {
  private layers: readonly LayerStat[] = [];
  private key: Key = 'order';
  private desc = true;

  constructor(private readonly table: HTMLTableElement) {}

  set(layers: readonly LayerStat[]): void {
    this.layers = layers;
    this.key = 'order';
    this.render();
  }

  sortBy(key: Key): void {
    if (this.key === key) this.desc = !this.desc;
    else {
      this.key = key;
      this.desc = key !== 'name' && key !== 'opType';
    }
    this.render();
  }

  private sorted(): LayerStat[] {
    const rows = [...this.layers];
    const k = this.key;
    if (k === 'order') return rows;
    const sign = this.desc ? -1 : 1;
    // unmeasured numbers (gzip on big models) sort as the smallest
    const num = (l: LayerStat): number => (l[k] as number | undefined) ?? -1;
    return rows.sort((a, b) => sign * (typeof a[k] === 'string' ? String(a[k]).localeCompare(String(b[k])) : num(a) - num(b)));
  }

  private render(): void {
    const head = h(
      'tr',
      {},
      ...COLUMNS.map(([key, label]) => {
        const th = h('th', { 'data-sort': key, title: `sort by ${label.toLowerCase()}`, ...(this.key === key ? { 'aria-sort': this.desc ? 'descending' : 'ascending' } : {}) }, label);
        th.addEventListener('click', () => this.sortBy(key));
        return th;
      }),
    );
    const rows = this.sorted().map((l) =>
      h(
        'tr',
        { 'data-layer': l.name, 'data-op': l.opType },
        h('td', {}, l.name),
        h('td', {}, l.opType),
        h('td', { 'data-value': l.parameters }, count(l.parameters)),
        h('td', { 'data-value': l.bytes }, formatBytes(l.bytes)),
        l.gzipBytes === undefined ? h('td', { title: 'not measured on models this big' }, '–') : h('td', { 'data-value': l.gzipBytes }, formatBytes(l.gzipBytes)),
        h('td', { 'data-value': l.flops }, count(l.flops)),
      ),
    );
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
    this.table.dispatchEvent(new Event('rendered'));
  }
}

/** Whether a layer matches a filter text (case-insensitive, on its name or op type; all words must match). */
export function matchesFilter(name: string, opType: string, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const hay = `${name} ${opType}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}
