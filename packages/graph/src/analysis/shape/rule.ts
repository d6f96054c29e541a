import type { Dim, Node, OnnxDataType, ValueType } from '../../ir/types.js';

/** What a shape rule infers for one output: element type, shape, and (for small int tensors) values. */
export interface OutInfo {
  elem?: OnnxDataType | undefined;
  shape?: readonly Dim[] | undefined;
  /** Known element values of a small int tensor (symbolic dims allowed), e.g. the result of Shape. */
  data?: Dim[] | undefined;
}

/** What a shape rule can ask about the node it infers. */
export interface RuleContext {
  readonly node: Node;
  /** Opset version of the node's domain. */
  readonly opset: number;
  /** True when input `i` is present (non-empty name). */
  has(i: number): boolean;
  type(i: number): ValueType | undefined;
  shape(i: number): readonly Dim[] | undefined;
  elem(i: number): OnnxDataType | undefined;
  /** Known values of input `i` when every element is a known integer (constants, propagated shapes). */
  ints(i: number): number[] | undefined;
  /** Known values of input `i`, symbolic dims allowed. */
  data(i: number): Dim[] | undefined;
  /** Report an inconsistency (throws; the driver records it). */
  fail(message: string): never;
}

/** A shape rule: one entry per node output (undefined = unknown). */
export type ShapeRule = (c: RuleContext) => (OutInfo | undefined)[];

const rules = new Map<string, ShapeRule>();

/** Register (or replace) the shape rule of an op type in a domain ('' = default). */
export function registerShapeRule(opType: string, rule: ShapeRule, domain = ''): void {
  rules.set(`${domain}::${opType}`, rule);
}

/** The shape rule of an op, if any. */
export function getShapeRule(opType: string, domain = ''): ShapeRule | undefined {
  return rules.get(`${domain === 'ai.onnx' ? '' : domain}::${opType}`);
}

/** Register one rule for several op types. */
export function registerShapeRules(opTypes: readonly string[], rule: ShapeRule): void {
  for (const op of opTypes) registerShapeRule(op, rule);
}

/**
 * `c` seen through `inputs` (input i of the view is input inputs[i] of the node; -1 or beyond:
 * absent), for a rule that borrows another op's rule. `values: false` hides constant values
 * (`ints`, `data`): a quantized op's codes are not the borrowed op's values.
 */
export function inputView(c: RuleContext, inputs: readonly number[], values = true): RuleContext {
  const at = (i: number): number => inputs[i] ?? -1;
  return {
    node: c.node,
    opset: c.opset,
    has: (i) => at(i) >= 0 && c.has(at(i)),
    type: (i) => (at(i) >= 0 ? c.type(at(i)) : undefined),
    shape: (i) => (at(i) >= 0 ? c.shape(at(i)) : undefined),
    elem: (i) => (at(i) >= 0 ? c.elem(at(i)) : undefined),
    ints: (i) => (values && at(i) >= 0 ? c.ints(at(i)) : undefined),
    data: (i) => (values && at(i) >= 0 ? c.data(at(i)) : undefined),
    fail: c.fail,
  };
}
