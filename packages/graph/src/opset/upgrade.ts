import { cloneModel, isDefaultDomain, opsetVersion } from '../ir/graph.js';
import { NameGenerator } from '../ir/names.js';
import { graphScopes } from '../ir/scopes.js';
import type { Model, Node } from '../ir/types.js';
import { ConversionContext } from './context.js';
import { OpsetConversionError } from './errors.js';
import { MAX_TARGET_OPSET, MIN_TARGET_OPSET, irVersionForOpset } from './ir_version.js';
import { opsetRule } from './registry.js';

/** Result of {@link upgradeOpset}. */
export interface OpsetUpgrade {
  /** The converted model (a new object; the input is untouched). */
  model: Model;
  /** Default-domain opset of the input. */
  from: number;
  /** Default-domain opset of the returned model. */
  to: number;
  /** What was rewritten, one line per changed node plus the opset/IR version bumps. */
  changes: string[];
}

/** Convert one node through every step between `ctx.from` and `ctx.target`; a reason when it cannot. */
function convertNode(node: Node, ctx: ConversionContext): string | undefined {
  let rule = opsetRule(node.opType);
  if (!rule) return `has no conversion rule to ${ctx.target}`;
  if (ctx.from < rule.since) {
    return `has no conversion rule to ${ctx.target}: the converter accepts ${node.opType} from version ${rule.since} on${rule.belowSince ? ` (${rule.belowSince})` : ''}`;
  }
  let version = ctx.from;
  let op = node.opType;
  for (;;) {
    const step = rule.steps?.find((s) => s.at > version && s.at <= ctx.target);
    if (!step) return undefined;
    const reason = step.apply(node, ctx);
    if (typeof reason === 'string') return `cannot convert to ${ctx.target}: ${reason}`;
    version = step.at;
    if (node.opType !== op) {
      op = node.opType;
      rule = opsetRule(op);
      if (!rule) return `became ${op}, which has no conversion rule`;
    }
  }
}

function describe(node: Node, path: string): string {
  return `node '${node.name || '(unnamed)'}'${path ? ` in ${path}` : ''}`;
}

/** Convert a clone of `model`; collects every blocker instead of stopping at the first. */
function convert(model: Model, from: number, target: number): { model: Model; changes: string[]; blockers: string[] } {
  const changes: string[] = [];
  if (!Number.isInteger(target) || target < MIN_TARGET_OPSET || target > MAX_TARGET_OPSET) {
    return { model, changes, blockers: [`target opset ${target} is outside the supported range ${MIN_TARGET_OPSET}..${MAX_TARGET_OPSET}`] };
  }
  // one blocker per op and reason, naming its nodes (an export repeats one op per layer)
  const blocked = new Map<string, { op: string; reason: string; where: string[] }>();
  const m = cloneModel(model);
  const names = new NameGenerator(m.graph);
  const fromUpsample = new WeakSet<Node>();
  for (const scope of graphScopes(m.graph)) {
    const g = scope.graph;
    const ctx = new ConversionContext(g, scope.path, from, target, names, fromUpsample);
    const nodes: Node[] = [];
    for (const node of g.nodes) {
      if (!isDefaultDomain(node.domain)) {
        nodes.push(node);
        continue;
      }
      ctx.before = [];
      ctx.after = [];
      ctx.notes = [];
      const label = `op '${node.opType}' (${describe(node, scope.path)}) at opset ${from}`;
      const reason = convertNode(node, ctx);
      if (reason) {
        const key = `${node.opType}\u0000${reason}`;
        const entry = blocked.get(key) ?? { op: node.opType, reason, where: [] };
        entry.where.push(describe(node, scope.path));
        blocked.set(key, entry);
        nodes.push(node);
        continue;
      }
      nodes.push(...ctx.before, node, ...ctx.after);
      if (ctx.notes.length) changes.push(`${label}: ${ctx.notes.join('; ')}`);
    }
    g.nodes = nodes;
  }
  for (const o of m.opsetImports) if (isDefaultDomain(o.domain)) o.version = target;
  changes.push(`default-domain opset ${from} -> ${target}`);
  const ir = irVersionForOpset(target)!;
  if (m.irVersion < ir) {
    changes.push(`ir_version ${m.irVersion} -> ${ir}`);
    m.irVersion = ir;
  }
  const blockers = [...blocked.values()].map(({ op, reason, where }) => `op '${op}' (${nodeList(where)}) at opset ${from} ${reason}`);
  return { model: m, changes, blockers };
}

/** `node 'a'`, `node 'a', node 'b'`, …, at most three named, then how many more. */
function nodeList(where: readonly string[]): string {
  const shown = where.slice(0, 3).join(', ');
  return where.length > 3 ? `${shown} and ${where.length - 3} more` : shown;
}

function sourceOpset(model: Model): number {
  const v = opsetVersion(model);
  if (v === undefined) {
    throw new OpsetConversionError(0, 0, ['the model imports no default-domain (ai.onnx) opset; add one before upgrading']);
  }
  return v;
}

/**
 * Upgrade the default-domain opset of `model` (and of every subgraph) to `target`. Returns a new
 * model; the input is untouched. Every default-domain node is rewritten to the signature of its
 * version at `target` with identical results (attributes that became inputs, Upsample -> Resize,
 * 2-D Softmax coercion made explicit, …); other domains are untouched and keep their imports;
 * `irVersion` is raised to what `target` needs. When `from >= target` the model is returned
 * unchanged (a clone, `changes: []`).
 *
 * @throws OpsetConversionError listing every node that cannot convert exactly (nothing is
 *   returned partially converted).
 */
export function upgradeOpset(model: Model, target: number): OpsetUpgrade {
  const from = sourceOpset(model);
  if (from >= target) return { model: cloneModel(model), from, to: from, changes: [] };
  const r = convert(model, from, target);
  if (r.blockers.length) throw new OpsetConversionError(from, target, r.blockers);
  return { model: r.model, from, to: target, changes: r.changes };
}

/** Reasons the upgrade of `model` to `target` is impossible (empty array = it will succeed). */
export function opsetUpgradeBlockers(model: Model, target: number): string[] {
  const from = opsetVersion(model);
  if (from === undefined) return ['the model imports no default-domain (ai.onnx) opset; add one before upgrading'];
  if (from >= target) return [];
  return convert(model, from, target).blockers;
}
