import { ArgumentError, ShapeError } from '@whittle/tensor';

/**
 * An ONNX Einsum equation resolved against its inputs' ranks: one label per axis of each
 * input (repeated labels mark diagonals) and the output's labels. The dims an ellipsis
 * stands for get labels `.0`, `.1`, … aligned from the right, so inputs whose ellipses cover
 * different numbers of axes broadcast as numpy does.
 */
export interface EinsumLabels {
  readonly inputs: readonly (readonly string[])[];
  readonly output: readonly string[];
}

const ELLIPSIS = '...';

/** The labels of one term: letters, and for its ellipsis `ellipsisRank` dims (right-aligned over `maxEllipsis`). */
function termLabels(term: string, rank: number | undefined, maxEllipsis: number, where: string): string[] {
  const dots = term.indexOf(ELLIPSIS);
  if (dots >= 0 && term.indexOf(ELLIPSIS, dots + 1) >= 0) throw new ArgumentError(`${where}: term '${term}' has more than one ellipsis`);
  const letters = term.replace(ELLIPSIS, '');
  for (const ch of letters) if (!/[A-Za-z]/.test(ch)) throw new ArgumentError(`${where}: term '${term}' has '${ch}', not a letter`);
  const ellipsisRank = dots < 0 ? 0 : (rank ?? letters.length + maxEllipsis) - letters.length;
  if (ellipsisRank < 0 || (dots < 0 && rank !== undefined && rank !== letters.length)) {
    throw new ShapeError(`${where}: term '${term}' labels ${letters.length} axes but its input has rank ${rank}`);
  }
  const ell = Array.from({ length: ellipsisRank }, (_, k) => `.${maxEllipsis - ellipsisRank + k}`);
  return dots < 0 ? [...letters] : [...term.slice(0, dots), ...ell, ...term.slice(dots + 3)];
}

/**
 * Resolve an Einsum `equation` against the ranks of its inputs (as ONNX and numpy read it:
 * spaces ignored; without `->` the output is the ellipsis dims followed by the labels that
 * occur once, in character-code order).
 * @throws ArgumentError for a malformed equation or one whose term count differs from the inputs.
 * @throws ShapeError when a term labels more axes than its input has.
 */
export function parseEinsum(equation: string, ranks: readonly number[], where = 'Einsum'): EinsumLabels {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow < 0 ? eq : eq.slice(0, arrow);
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw new ArgumentError(`${where}: equation '${equation}' has ${terms.length} input terms for ${ranks.length} inputs`);
  const maxEllipsis = Math.max(0, ...terms.map((t, i) => (t.includes(ELLIPSIS) ? ranks[i]! - t.replace(ELLIPSIS, '').length : 0)));
  const inputs = terms.map((t, i) => termLabels(t, ranks[i], maxEllipsis, where));
  const ell = Array.from({ length: maxEllipsis }, (_, k) => `.${k}`);
  let output: string[];
  if (arrow < 0) {
    const count = new Map<string, number>();
    for (const l of inputs.flat()) if (!l.startsWith('.')) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count].filter(([, n]) => n === 1).map(([l]) => l);
    output = [...ell, ...once.sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))];
  } else {
    const rhs = eq.slice(arrow + 2);
    if (rhs.includes('->') || rhs.includes(',')) throw new ArgumentError(`${where}: equation '${equation}' has a malformed output term`);
    output = termLabels(rhs, undefined, maxEllipsis, where).filter((l) => !l.startsWith('.') || ell.includes(l));
    const known = new Set(inputs.flat());
    for (const l of output) if (!known.has(l)) throw new ArgumentError(`${where}: output label '${l}' of '${equation}' is on no input`);
    if (new Set(output).size !== output.length) throw new ArgumentError(`${where}: output of '${equation}' repeats a label`);
  }
  return { inputs, output };
}

/**
 * The size of every label given the inputs' shapes: equal sizes, or 1 broadcasting to the other
 * (numpy's rule, which ellipsis dims need). Unknown dims (null/strings) are skipped.
 * @throws ShapeError when one label has two different sizes above 1.
 */
export function einsumLabelSizes(labels: EinsumLabels, shapes: readonly (readonly (number | string | null)[])[], where = 'Einsum'): Map<string, number> {
  const sizes = new Map<string, number>();
  labels.inputs.forEach((ls, i) => {
    ls.forEach((l, k) => {
      const d = shapes[i]![k];
      if (typeof d !== 'number') return;
      const prev = sizes.get(l);
      if (prev !== undefined && prev !== d && prev !== 1 && d !== 1) {
        throw new ShapeError(`${where}: label '${l}' has size ${prev} and ${d} (input ${i} [${shapes[i]!.join(',')}])`);
      }
      if (prev === undefined || prev === 1) sizes.set(l, d);
    });
  });
  return sizes;
}

/**
 * Multiply-adds of evaluating the equation as the interpreter does: labels found on one input
 * only and not in the output are summed first, then inputs are contracted left to right, each
 * step costing the product of the sizes of the labels of both operands. A single input costs 0
 * (it is a reduction or a transpose).
 */
export function einsumMacs(labels: EinsumLabels, sizes: ReadonlyMap<string, number>): number {
  const { inputs, output } = labels;
  const size = (l: string): number => sizes.get(l) ?? 1;
  const neededAfter = (i: number): Set<string> => new Set([...output, ...inputs.slice(i + 1).flat()]);
  let cur = new Set(inputs[0]!.filter((l) => neededAfter(0).has(l)));
  let macs = 0;
  for (let i = 1; i < inputs.length; i++) {
    const later = neededAfter(i);
    const next = inputs[i]!.filter((l) => cur.has(l) || later.has(l));
    const all = new Set([...cur, ...next]);
    macs += [...all].reduce((p, l) => p * size(l), 1);
    cur = new Set([...all].filter((l) => later.has(l)));
  }
  return macs;
}
