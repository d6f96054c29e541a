import { WhittleError } from '@whittle/tensor';

/** Where a problem was found: the node (by name, op type and index) and the graph path. */
export interface GraphLocation {
  /** Name of the node ('' when the node has no name). */
  node?: string;
  /** Op type of the node. */
  opType?: string;
  /** Index of the node in its graph's node list. */
  index?: number;
  /** Path of graph names from the model's main graph to the graph holding the node. */
  graph?: string;
}

/**
 * A graph breaks a structural rule of the ONNX checker (SSA, undefined input, missing output,
 * missing opset import, bad attribute type, empty op type, cycle, …). `rule` is a stable id.
 */
export class GraphValidationError extends WhittleError {
  readonly rule: string;
  readonly location: GraphLocation;
  constructor(rule: string, message: string, location: GraphLocation = {}, code = 'E_GRAPH_INVALID') {
    super(code, message);
    this.rule = rule;
    this.location = location;
  }
}

/** The nodes of a graph form a cycle; `cycle` lists node names (or `#index`) along it. */
export class GraphCycleError extends GraphValidationError {
  readonly cycle: string[];
  constructor(cycle: string[], graph: string) {
    super(
      'cycle',
      `graph '${graph}' has a cycle through node ${cycle.map((n) => `'${n}'`).join(' -> ')}; ` +
        'a node consumes (directly or through others) its own output — check the rewrite that produced it',
      { node: cycle[0] ?? '', graph },
      'E_GRAPH_CYCLE',
    );
    this.cycle = cycle;
  }
}

/** A rewrite (insert/replace/remove/rename) that would break the graph. */
export class GraphRewriteError extends WhittleError {
  constructor(message: string) {
    super('E_GRAPH_REWRITE', message);
  }
}

/** Pass options that do not fit the pass's schema (unknown names, wrong types, out of range). */
export class PassOptionsError extends WhittleError {
  readonly pass: string;
  /** Unknown option names, if any. */
  readonly unknown: string[];
  constructor(pass: string, message: string, unknown: string[] = []) {
    super('E_PASS_OPTIONS', message);
    this.pass = pass;
    this.unknown = unknown;
  }
}

/** No pass is registered under a name; `suggestions` holds the closest registered names. */
export class UnknownPassError extends WhittleError {
  readonly pass: string;
  readonly suggestions: string[];
  constructor(pass: string, suggestions: string[], available: string[]) {
    const hint = suggestions.length
      ? `did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?`
      : `registered passes: ${available.map((s) => `'${s}'`).join(', ') || '(none)'}`;
    super('E_UNKNOWN_PASS', `unknown pass '${pass}'; ${hint}`);
    this.pass = pass;
    this.suggestions = suggestions;
  }
}

/** A recipe that is malformed or fails at a step; `step` is the 0-based step index when known. */
export class RecipeError extends WhittleError {
  readonly step: number | undefined;
  readonly pass: string | undefined;
  constructor(message: string, where: { step?: number; pass?: string } = {}, cause?: unknown) {
    super('E_RECIPE', message, cause === undefined ? undefined : { cause });
    this.step = where.step;
    this.pass = where.pass;
  }
}

/** A pass run or recipe was aborted through its AbortSignal. */
export class PassAbortedError extends WhittleError {
  constructor(message: string) {
    super('E_ABORTED', message);
  }
}

/** The outputs of the transformed model differ from the original's beyond the tolerance. */
export class OutputMismatchError extends WhittleError {
  constructor(message: string) {
    super('E_OUTPUT_MISMATCH', message);
  }
}

/** A pass needs data the context does not carry (training samples, labels, calibration, a resource). */
export class PassDataError extends WhittleError {
  readonly pass: string;
  constructor(pass: string, message: string) {
    super('E_PASS_DATA', message);
    this.pass = pass;
  }
}

/**
 * A compression run did not compress: no step changed the model, or the weights grew. `reason`
 * names what the passes found (e.g. which weights they skipped and why).
 */
export class NoCompressionError extends WhittleError {
  readonly reason: string;
  constructor(message: string, reason: string) {
    super('E_NO_COMPRESSION', message);
    this.reason = reason;
  }
}
