import { GraphValidationError, type GraphLocation } from '../errors.js';
import { isRawTensor, subgraphsOf } from '../ir/attributes.js';
import { isDefaultDomain } from '../ir/graph.js';
import type { AttributeValue, Graph, Model, Node } from '../ir/types.js';
import { ATTRIBUTE_TYPES } from './attribute_types.js';

/** One structural problem found by {@link checkModel}. */
export interface ValidationIssue {
  /** Stable rule id: 'ssa', 'undefined-input', 'undefined-output', 'opset-import', 'attribute-type', 'empty-op-type', 'duplicate-initializer', 'ir-version'. */
  rule: string;
  message: string;
  location: GraphLocation;
}

const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): boolean => typeof v === 'number';
const isGraph = (v: unknown): boolean => !!v && typeof v === 'object' && Array.isArray((v as Graph).nodes);
const isTensorLike = (v: unknown): boolean =>
  !!v && typeof v === 'object' && (isRawTensor(v as never) || 'storage' in (v as object));

/** Whether an attribute value's payload matches its type tag. */
function payloadOk(a: AttributeValue): boolean {
  switch (a.type) {
    case 'int': return isInt(a.value);
    case 'float': return isNum(a.value);
    case 'string': return typeof a.value === 'string';
    case 'ints': return Array.isArray(a.value) && a.value.every(isInt);
    case 'floats': return Array.isArray(a.value) && a.value.every(isNum);
    case 'strings': return Array.isArray(a.value) && a.value.every((s) => typeof s === 'string');
    case 'tensor': return isTensorLike(a.value);
    case 'tensors': return Array.isArray(a.value) && a.value.every(isTensorLike);
    case 'graph': return isGraph(a.value);
    case 'graphs': return Array.isArray(a.value) && a.value.every(isGraph);
    case 'raw': return a.value instanceof Uint8Array;
    default: return false;
  }
}

function label(n: Node, i: number): string {
  return `node ${n.name ? `'${n.name}'` : `#${i}`} (${n.opType || '<empty op type>'})`;
}

function checkGraph(g: Graph, outer: Set<string>, path: string, issues: ValidationIssue[], domains: Set<string>): void {
  const loc = (n: Node, i: number): GraphLocation => ({ node: n.name, opType: n.opType, index: i, graph: path });
  const defined = new Set<string>();
  for (const k of g.initializers.keys()) {
    if (g.rawInitializers.has(k)) issues.push({ rule: 'duplicate-initializer', message: `graph '${path}': initializer '${k}' is both a computable and a raw initializer`, location: { graph: path } });
    defined.add(k);
  }
  for (const k of g.rawInitializers.keys()) defined.add(k);
  const seenInputs = new Set<string>();
  for (const v of g.inputs) {
    if (seenInputs.has(v.name)) issues.push({ rule: 'ssa', message: `graph '${path}': input '${v.name}' is declared twice`, location: { graph: path } });
    seenInputs.add(v.name);
    defined.add(v.name);
  }
  const producedLater = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && !producedLater.has(o) && producedLater.set(o, i)));

  g.nodes.forEach((n, i) => {
    if (!n.opType) issues.push({ rule: 'empty-op-type', message: `graph '${path}': ${label(n, i)} has an empty op type`, location: loc(n, i) });
    domains.add(isDefaultDomain(n.domain) ? '' : n.domain);
    n.inputs.forEach((x, k) => {
      if (!x || defined.has(x) || outer.has(x)) return;
      const later = producedLater.get(x);
      const why = later !== undefined && later >= i
        ? `is produced later by ${label(g.nodes[later]!, later)}: nodes are not in topological order (sortTopologically fixes that) or form a cycle`
        : 'is not a graph input, initializer, earlier node output' + (path.includes('/') ? ' or outer-scope value' : '');
      issues.push({ rule: 'undefined-input', message: `graph '${path}': input ${k} '${x}' of ${label(n, i)} ${why}`, location: loc(n, i) });
    });
    const schema = isDefaultDomain(n.domain) ? ATTRIBUTE_TYPES[n.opType] : undefined;
    for (const [name, a] of n.attributes) {
      if (!payloadOk(a)) {
        issues.push({ rule: 'attribute-type', message: `graph '${path}': attribute '${name}' of ${label(n, i)} is tagged '${a.type}' but holds a value of another type`, location: loc(n, i) });
      } else if (schema?.[name] && schema[name] !== a.type) {
        issues.push({ rule: 'attribute-type', message: `graph '${path}': attribute '${name}' of ${label(n, i)} must be of type '${schema[name]}', got '${a.type}'`, location: loc(n, i) });
      }
    }
    const scope = new Set([...outer, ...defined]);
    for (const [name, a] of n.attributes) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      subs.forEach((sg, j) => checkGraph(sg, scope, `${path}/${n.name || `#${i}`}.${name}${subs.length > 1 ? `[${j}]` : ''}`, issues, domains));
    }
    for (const o of n.outputs) {
      if (!o) continue;
      if (defined.has(o)) {
        issues.push({ rule: 'ssa', message: `graph '${path}': output '${o}' of ${label(n, i)} is already defined (every value must have exactly one producer)`, location: loc(n, i) });
      }
      defined.add(o);
    }
  });
  for (const o of g.outputs) {
    if (!defined.has(o.name) && !outer.has(o.name)) {
      issues.push({ rule: 'undefined-output', message: `graph '${path}': output '${o.name}' is not produced by any node, input or initializer`, location: { graph: path } });
    }
  }
}

/** All structural problems of a model, in graph order (empty when valid). */
export function checkModel(model: Model): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!(model.irVersion > 0)) issues.push({ rule: 'ir-version', message: `model ir_version must be > 0, got ${model.irVersion}`, location: {} });
  const domains = new Set<string>();
  checkGraph(model.graph, new Set(), model.graph.name || 'main', issues, domains);
  const imported = new Set(model.opsetImports.map((o) => (isDefaultDomain(o.domain) ? '' : o.domain)));
  for (const d of domains) {
    if (!imported.has(d)) {
      issues.push({ rule: 'opset-import', message: `domain '${d || 'ai.onnx'}' is used by nodes but the model has no opset import for it; add { domain: '${d}', version } to opsetImports`, location: {} });
    }
  }
  return issues;
}

/**
 * Check the structural rules of the ONNX checker and throw a {@link GraphValidationError} for
 * the first problem (the message counts the others). Use {@link checkModel} to get them all.
 */
export function validateModel(model: Model): void {
  const issues = checkModel(model);
  const first = issues[0];
  if (!first) return;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new GraphValidationError(first.rule, first.message + more, first.location);
}
