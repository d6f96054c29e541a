import { type Recipe, getPass, listPasses, resolveRecipe } from '@whittle/graph';
import { h } from './dom.js';
import { optionsForm } from './options_form.js';

/** A step being edited: only options that differ from the pass defaults are kept. */
interface StepDraft {
  pass: string;
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The recipe steps list: add, remove, reorder, edit options; to and from Recipe objects. */
export class RecipeEditor {
  private steps: StepDraft[] = [];
  private name: string | undefined;

  constructor(
    private readonly list: HTMLElement,
    private readonly onChange: () => void,
  ) {}

  /** Replace the steps with a recipe's (options validated when the recipe is run). */
  setRecipe(recipe: Recipe): void {
    resolveRecipe(recipe); // unknown passes or bad options throw RecipeError, naming the step
    this.name = recipe.name;
    this.steps = recipe.passes.map((s) => ({ pass: s.pass, values: { ...(s.options ?? {}) }, errors: {} }));
    this.render();
  }

  add(pass: string): void {
    getPass(pass);
    this.name = undefined;
    this.steps.push({ pass, values: {}, errors: {} });
    this.render();
  }

  get size(): number {
    return this.steps.length;
  }

  /** Field errors that block a run. */
  errors(): string[] {
    return this.steps.flatMap((s, i) => Object.values(s.errors).map((e) => `step ${i + 1} (${s.pass}): ${e}`));
  }

  /** The recipe as edited, checked by the pass registry (throws RecipeError). */
  toRecipe(): Recipe {
    const recipe: Recipe = { passes: this.steps.map((s) => (Object.keys(s.values).length ? { pass: s.pass, options: { ...s.values } } : { pass: s.pass })) };
    if (this.name) recipe.name = this.name;
    resolveRecipe(recipe);
    return recipe;
  }

  private move(i: number, by: number): void {
    const j = i + by;
    if (j < 0 || j >= this.steps.length) return;
    [this.steps[i], this.steps[j]] = [this.steps[j]!, this.steps[i]!];
    this.name = undefined;
    this.render();
  }

  private remove(i: number): void {
    this.steps.splice(i, 1);
    this.name = undefined;
    this.render();
  }

  render(): void {
    const passes = new Map(listPasses().map((p) => [p.name, p]));
    this.list.replaceChildren(
      ...this.steps.map((s, i) => {
        const info = passes.get(s.pass)!;
        const button = (label: string, title: string, fn: () => void) => {
          const b = h('button', { type: 'button', title }, label);
          b.addEventListener('click', fn);
          return b;
        };
        const form = optionsForm(info.options, s.values, (name, value, error) => {
          if (error) s.errors[name] = error;
          else delete s.errors[name];
          if (value === undefined || same(value, info.options[name]?.default)) delete s.values[name];
          else s.values[name] = value;
          this.name = undefined;
          this.onChange();
        });
        return h(
          'li',
          { 'data-step': i, 'data-pass': s.pass },
          h(
            'fieldset',
            { class: 'step' },
            h('legend', {}, `${s.pass} `, button('↑', 'move up', () => this.move(i, -1)), button('↓', 'move down', () => this.move(i, 1)), button('✕', 'remove this step', () => this.remove(i))),
            h('p', { class: 'desc' }, info.description),
            form,
          ),
        );
      }),
    );
    this.onChange();
  }
}
