import type { OptionSpec } from '@whittle/graph';
import { h } from './dom.js';

/** Called with the parsed value (undefined = use the pass's default) or a parse error. */
export type OnOption = (name: string, value: unknown, error?: string) => void;

function shown(spec: OptionSpec, value: unknown): unknown {
  return value !== undefined ? value : spec.default;
}

function parseList(text: string, numbers: boolean): unknown[] | string {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!numbers) return parts;
  const nums = parts.map(Number);
  return nums.some((n) => !Number.isFinite(n)) ? 'comma-separated numbers' : nums;
}

/** Parse a field's text; a string result is an error message. */
function parse(spec: OptionSpec, el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): { value: unknown } | string {
  const text = el.value.trim();
  switch (spec.type) {
    case 'boolean':
      return { value: (el as HTMLInputElement).checked };
    case 'number': {
      if (text === '') return { value: undefined };
      const n = Number(text);
      if (!Number.isFinite(n)) return 'a number';
      return { value: n };
    }
    case 'string':
      return { value: text === '' ? undefined : text };
    case 'string[]':
    case 'number[]': {
      const r = parseList(text, spec.type === 'number[]');
      return typeof r === 'string' ? r : { value: text === '' ? undefined : r };
    }
    case 'object':
      if (text === '') return { value: undefined };
      try {
        const o = JSON.parse(text) as unknown;
        return o && typeof o === 'object' && !Array.isArray(o) ? { value: o } : 'a JSON object';
      } catch {
        return 'a JSON object';
      }
  }
}

function control(name: string, spec: OptionSpec, value: unknown): HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement {
  const v = shown(spec, value);
  switch (spec.type) {
    case 'boolean':
      return h('input', { type: 'checkbox', name, checked: v === true });
    case 'number':
      return h('input', { type: 'number', name, step: spec.integer ? 1 : 'any', min: spec.min, max: spec.max, value: v === undefined ? '' : String(v) });
    case 'string':
      if (spec.enum) {
        const s = h('select', { name }, ...(spec.default === undefined ? [h('option', { value: '' }, '(pass default)')] : []), ...spec.enum.map((e) => h('option', { value: e }, e)));
        s.value = v === undefined ? '' : String(v);
        return s;
      }
      return h('input', { type: 'text', name, value: v === undefined ? '' : String(v) });
    case 'string[]':
    case 'number[]':
      return h('input', { type: 'text', name, value: Array.isArray(v) ? v.join(', ') : '', placeholder: 'comma-separated' });
    case 'object':
      return h('textarea', { name, rows: 2, placeholder: '{ }' }, v === undefined ? '' : JSON.stringify(v));
  }
}

/**
 * One field per option of a pass's schema, 1:1 with it (as the CLI's flags): fields show the
 * value in effect (the pass default until changed); `onChange` receives parsed values.
 */
export function optionsForm(fields: Readonly<Record<string, OptionSpec>>, values: Readonly<Record<string, unknown>>, onChange: OnOption): HTMLElement {
  const box = h('div', { class: 'options' });
  for (const [name, spec] of Object.entries(fields)) {
    const el = control(name, spec, values[name]);
    const label = h('label', { 'data-option': name, title: spec.description }, spec.type === 'boolean' ? h('span', {}, el, ` ${name}`) : name, spec.type === 'boolean' ? null : el);
    const update = (): void => {
      const r = parse(spec, el);
      label.classList.toggle('invalid', typeof r === 'string');
      if (typeof r === 'string') onChange(name, undefined, `option '${name}' must be ${r}`);
      else onChange(name, r.value);
    };
    el.addEventListener('change', update);
    el.addEventListener('input', update);
    box.append(label);
  }
  return box;
}
