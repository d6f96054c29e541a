/**
 * Model-local functions (ModelProto.functions) inlined into the graph, as onnxruntime does when it
 * loads a model. Exporters write them: torch.onnx's dynamo exporter (torch 2.1–2.4) wraps every
 * module and every aten op in a function, TorchScript's `export_modules_as_functions` wraps
 * modules, onnxscript writes its own. A call node hides its MatMuls, Convs and weights from every
 * technique and the interpreter has no kernel for it; inlined, the graph is plain ONNX. Works on
 * the decoded protobuf objects, before they become Whittle's graph IR.
 */
import { OnnxFormatError } from './errors.js';
import { onnx, toNum, unknownFields, type OnnxTypes } from './proto.js';
import { readFields, utf8 } from './wire.js';

/** Function bodies nested deeper than this are taken as recursion (a function calling itself). */
const MAX_DEPTH = 64;

interface LocalFunction {
  proto: OnnxTypes.IFunctionProto;
  /** Defaults of the function's attributes (FunctionProto.attribute_proto, field 11). */
  defaults: Map<string, OnnxTypes.IAttributeProto>;
  /** Why its calls stay calls (opset conflict with the model), or undefined. */
  blocked?: string;
}

/** What {@link inlineLocalFunctions} did. */
export interface InlineFunctionsResult {
  /** Call nodes replaced by their function's body (nested calls included). */
  inlined: number;
  /** Functions kept because some call could not be inlined, with the reason. */
  kept: { function: string; reason: string }[];
}

const canonical = (domain: string | null | undefined): string => (domain === 'ai.onnx' ? '' : (domain ?? ''));
const keyOf = (domain: string | null | undefined, name: string | null | undefined, overload: string): string => `${canonical(domain)}\u0000${name ?? ''}\u0000${overload}`;
const label = (f: OnnxTypes.IFunctionProto): string => `${f.domain ? `${f.domain}.` : ''}${f.name ?? '?'}`;

/** A string field the generated code does not know (e.g. overload), from a message's unknown fields. */
function unknownString(msg: object, field: number): string {
  for (const raw of unknownFields(msg) ?? []) {
    const [f] = readFields(raw);
    if (f && f.field === field && f.bytes) return utf8(f.bytes);
  }
  return '';
}

function attributeDefaults(f: OnnxTypes.IFunctionProto): Map<string, OnnxTypes.IAttributeProto> {
  const out = new Map<string, OnnxTypes.IAttributeProto>();
  for (const raw of unknownFields(f) ?? []) {
    const [field] = readFields(raw);
    if (field && field.field === 11 && field.bytes) {
      const a = onnx.AttributeProto.decode(field.bytes);
      out.set(a.name ?? '', a);
    }
  }
  return out;
}

const cloneNode = (n: OnnxTypes.INodeProto): OnnxTypes.INodeProto => onnx.NodeProto.decode(onnx.NodeProto.encode(n).finish());
const cloneAttribute = (a: OnnxTypes.IAttributeProto): OnnxTypes.IAttributeProto => onnx.AttributeProto.decode(onnx.AttributeProto.encode(a).finish());

/** Every value and node name of a graph and its subgraphs (to keep new names unique). */
function collectNames(g: OnnxTypes.IGraphProto, into: Set<string>): void {
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) into.add(v.name ?? '');
  for (const t of g.initializer ?? []) into.add(t.name ?? '');
  for (const n of g.node ?? []) {
    into.add(n.name ?? '');
    for (const s of [...(n.input ?? []), ...(n.output ?? [])]) into.add(s);
    for (const a of n.attribute ?? []) for (const sub of subgraphs(a)) collectNames(sub, into);
  }
}

function subgraphs(a: OnnxTypes.IAttributeProto): OnnxTypes.IGraphProto[] {
  return [...(a.g ? [a.g] : []), ...(a.graphs ?? [])];
}

/** Rename every value of a (function-body) subgraph by `rename`; its own names get the same treatment. */
function renameGraph(g: OnnxTypes.IGraphProto, rename: (s: string) => string): void {
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) v.name = rename(v.name ?? '');
  for (const t of g.initializer ?? []) t.name = rename(t.name ?? '');
  for (const s of g.sparseInitializer ?? []) {
    if (s.values) s.values.name = rename(s.values.name ?? '');
  }
  for (const n of g.node ?? []) renameNode(n, rename);
}

function renameNode(n: OnnxTypes.INodeProto, rename: (s: string) => string): void {
  n.input = (n.input ?? []).map((s) => (s ? rename(s) : s));
  n.output = (n.output ?? []).map((s) => (s ? rename(s) : s));
  for (const a of n.attribute ?? []) for (const sub of subgraphs(a)) renameGraph(sub, rename);
}

/**
 * Replace attributes that refer to the caller's (`ref_attr_name`) by the call's value, else the
 * function's default, else drop them (the op's own default applies) — in subgraphs too.
 */
function bindAttributes(n: OnnxTypes.INodeProto, call: OnnxTypes.INodeProto, defaults: Map<string, OnnxTypes.IAttributeProto>): void {
  const out: OnnxTypes.IAttributeProto[] = [];
  for (const a of n.attribute ?? []) {
    if (a.refAttrName) {
      const given = (call.attribute ?? []).find((c) => c.name === a.refAttrName) ?? defaults.get(a.refAttrName);
      if (!given) continue;
      const bound = cloneAttribute(given);
      bound.name = a.name ?? '';
      out.push(bound);
      continue;
    }
    for (const sub of subgraphs(a)) for (const inner of sub.node ?? []) bindAttributes(inner, call, defaults);
    out.push(a);
  }
  n.attribute = out;
}

class Inliner {
  readonly functions = new Map<string, LocalFunction>();
  readonly used = new Set<string>();
  /** Keys of the functions at least one call was inlined from. */
  readonly expanded = new Set<string>();
  /** Call-site prefixes handed out (kept apart from value names: a prefix is not a value). */
  private readonly prefixes = new Set<string>();
  inlined = 0;
  private calls = 0;

  constructor(private readonly model: OnnxTypes.IModelProto) {
    const modelOpsets = new Map((model.opsetImport ?? []).map((o) => [canonical(o.domain), toNum(o.version)]));
    for (const f of model.functions ?? []) {
      const key = keyOf(f.domain, f.name, unknownString(f, 13));
      if (this.functions.has(key)) throw new OnnxFormatError(`readModel: local function '${label(f)}' is defined twice`);
      const entry: LocalFunction = { proto: f, defaults: attributeDefaults(f) };
      // a body written against another version of an op set than the model's would change meaning
      for (const o of f.opsetImport ?? []) {
        const have = modelOpsets.get(canonical(o.domain));
        if (have !== undefined && have !== toNum(o.version)) entry.blocked = `it imports ${o.domain || 'ai.onnx'} ${toNum(o.version)}, the model ${have}`;
      }
      this.functions.set(key, entry);
    }
    collectNames(model.graph!, this.used);
  }

  private fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  private lookup(n: OnnxTypes.INodeProto): LocalFunction | undefined {
    if (!this.functions.size) return undefined;
    return this.functions.get(keyOf(n.domain, n.opType, unknownString(n, 8)));
  }

  /** The nodes of `nodes` with every inlinable call replaced by its body, recursively. */
  expand(nodes: readonly OnnxTypes.INodeProto[], depth: number): OnnxTypes.INodeProto[] {
    const out: OnnxTypes.INodeProto[] = [];
    for (const n of nodes) {
      const f = this.lookup(n);
      if (!f || f.blocked) {
        for (const a of n.attribute ?? []) for (const sub of subgraphs(a)) sub.node = this.expand(sub.node ?? [], depth);
        out.push(n);
        continue;
      }
      if (depth >= MAX_DEPTH) throw new OnnxFormatError(`readModel: local function '${label(f.proto)}' calls itself (function calls nested ${MAX_DEPTH} deep)`);
      out.push(...this.expand(this.body(n, f), depth + 1));
      this.expanded.add(keyOf(f.proto.domain, f.proto.name, unknownString(f.proto, 13)));
      this.inlined++;
    }
    return out;
  }

  /** The body of `f` for one call: values renamed into the caller's scope, attributes bound. */
  private body(call: OnnxTypes.INodeProto, f: LocalFunction): OnnxTypes.INodeProto[] {
    const fn = f.proto;
    const where = `node '${call.name || call.opType}' (call of local function '${label(fn)}')`;
    const formalIn = fn.input ?? [];
    const formalOut = fn.output ?? [];
    if ((call.input ?? []).length > formalIn.length) throw new OnnxFormatError(`readModel: ${where} has ${call.input!.length} inputs; the function takes ${formalIn.length}`);
    if ((call.output ?? []).length > formalOut.length) throw new OnnxFormatError(`readModel: ${where} has ${call.output!.length} outputs; the function gives ${formalOut.length}`);
    let prefix = call.name || `${fn.name ?? 'function'}_${++this.calls}`;
    for (let i = 1; this.prefixes.has(prefix); i++) prefix = `${call.name || fn.name}_${i}`;
    this.prefixes.add(prefix);
    const map = new Map<string, string>();
    formalIn.forEach((s, i) => map.set(s, call.input?.[i] ?? ''));
    formalOut.forEach((s, i) => {
      const actual = call.output?.[i];
      // an output that is also an input keeps the input's binding (an Identity passes it on below)
      if (actual && !formalIn.includes(s)) map.set(s, actual);
    });
    const rename = (s: string): string => {
      let r = map.get(s);
      if (r === undefined) map.set(s, (r = this.fresh(`${prefix}/${s}`)));
      return r;
    };
    const produced = new Set<string>();
    const nodes = (fn.node ?? []).map((b, i) => {
      const n = cloneNode(b);
      bindAttributes(n, call, f.defaults);
      renameNode(n, rename);
      n.name = this.fresh(`${prefix}/${b.name || `${b.opType ?? 'node'}_${i}`}`);
      for (const o of n.output ?? []) produced.add(o);
      return n;
    });
    // an output that is an input of the function (or of nothing) is passed on by an Identity
    formalOut.forEach((s, i) => {
      const actual = call.output?.[i];
      if (!actual || produced.has(actual)) return;
      const source = formalIn.includes(s) ? rename(s) : undefined;
      if (source === undefined || source === '') throw new OnnxFormatError(`readModel: ${where}: no node of the function computes its output '${s}'`);
      nodes.push({ name: this.fresh(`${prefix}/pass_${s}`), opType: 'Identity', domain: '', input: [source], output: [actual], attribute: [] });
    });
    return nodes;
  }

  /** Function names still called from `nodes` (and from the bodies of those functions). */
  referenced(nodes: readonly OnnxTypes.INodeProto[], into = new Set<string>()): Set<string> {
    for (const n of nodes) {
      const key = keyOf(n.domain, n.opType, unknownString(n, 8));
      const f = this.functions.get(key);
      if (f && !into.has(key)) {
        into.add(key);
        this.referenced(f.proto.node ?? [], into);
      }
      for (const a of n.attribute ?? []) for (const sub of subgraphs(a)) this.referenced(sub.node ?? [], into);
    }
    return into;
  }

  /** Add the op sets the inlined bodies use that the model did not import. */
  importOpsets(): void {
    const have = new Set((this.model.opsetImport ?? []).map((o) => canonical(o.domain)));
    for (const [key, f] of this.functions) {
      if (!this.expanded.has(key)) continue;
      for (const o of f.proto.opsetImport ?? []) {
        if (have.has(canonical(o.domain))) continue;
        have.add(canonical(o.domain));
        (this.model.opsetImport ??= []).push({ domain: o.domain ?? '', version: o.version ?? 1 });
      }
    }
  }
}

/**
 * Inline every call of a model-local function in `model` (main graph and subgraphs, nested calls
 * included), in place. Functions whose op-set imports contradict the model's are left as they are
 * (their calls stay); a function whose every call was inlined is removed, one never called is kept.
 */
export function inlineLocalFunctions(model: OnnxTypes.IModelProto): InlineFunctionsResult {
  if (!model.functions?.length || !model.graph) return { inlined: 0, kept: [] };
  const inl = new Inliner(model);
  model.graph.node = inl.expand(model.graph.node ?? [], 0);
  if (inl.inlined) inl.importOpsets();
  const still = inl.referenced(model.graph.node);
  const kept: InlineFunctionsResult['kept'] = [];
  model.functions = model.functions.filter((f) => {
    const key = keyOf(f.domain, f.name, unknownString(f, 13));
    // a function never called is not ours to drop; one whose every call was inlined is gone
    if (!still.has(key)) return !inl.expanded.has(key);
    const e = inl.functions.get(key)!;
    kept.push({ function: label(f), reason: e.blocked ?? 'called from a kept function' });
    return true;
  });
  return { inlined: inl.inlined, kept };
}
