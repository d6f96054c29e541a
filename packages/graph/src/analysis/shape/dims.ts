import type { Dim, OnnxDataType, ValueType } from '../../ir/types.js';

/** A tensor ValueType. */
export function tensorType(elemType: OnnxDataType | undefined, shape: readonly Dim[] | undefined): ValueType {
  const t: { kind: 'tensor'; elemType?: OnnxDataType; shape?: readonly Dim[] } = { kind: 'tensor' };
  if (elemType !== undefined) t.elemType = elemType;
  if (shape !== undefined) t.shape = [...shape];
  return t;
}

/** Product of dims: a number when all are numbers, else null. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return dims.length === 1 ? d : null;
    p *= d;
  }
  return p;
}

/** Broadcast two dims (numpy rules); returns undefined when they cannot broadcast. */
export function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number') return a === b ? a : undefined;
  if (typeof a === 'number') return a; // symbolic b must be 1 or a
  if (typeof b === 'number') return b;
  return a === b ? a : null;
}

/** Broadcast shapes (numpy rules); returns undefined when they cannot broadcast. */
export function broadcastShapes(shapes: readonly (readonly Dim[])[]): Dim[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = new Array<Dim>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = rank - s.length + i;
      const d = broadcastDim(out[k]!, s[i]!);
      if (d === undefined) return undefined;
      out[k] = d;
    }
  }
  return out;
}

/** Merge a declared dim with an inferred one: numbers win over symbols, symbols over unknown. */
export function mergeDim(declared: Dim, inferred: Dim): Dim {
  if (typeof declared === 'number') return declared;
  if (typeof inferred === 'number') return inferred;
  return declared ?? inferred;
}

/** Merge a declared type with an inferred one (declared information is kept, gaps filled). */
export function mergeTypes(declared: ValueType | null | undefined, inferred: ValueType | undefined): ValueType | undefined {
  if (!declared) return inferred;
  if (!inferred || declared.kind !== 'tensor' || inferred.kind !== 'tensor') return declared;
  const elem = declared.elemType && declared.elemType !== 'undefined' ? declared.elemType : inferred.elemType;
  let shape = declared.shape;
  if (!shape) shape = inferred.shape;
  else if (inferred.shape && inferred.shape.length === shape.length) {
    shape = shape.map((d, i) => mergeDim(d, inferred.shape![i]!));
  }
  return { ...declared, ...tensorType(elem, shape) };
}

/** Normalize a possibly negative axis for `rank`; undefined when out of range. */
export function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}
