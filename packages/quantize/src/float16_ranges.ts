/**
 * Activation ranges for `convert-float16`: the float32 model is run on calibration data and every
 * float value of the main graph is checked against what float16 holds. A value beyond ±65504
 * (an attention-mask fill, a large pre-Softmax score, a squared sum) turns into ±inf in float16;
 * a value whose nonzero entries mostly lie below float16's smallest normal number (6.1e-5:
 * variances, tiny epsilons) loses its precision. Such values keep their producer and readers in
 * float32.
 */
import { type ActivationRuntime, type CalibrationRuntimeChoice, type CalibrationSource, type Graph, type Model, type Node, type OnnxDataType, buildUseIndex, collectActivations, isDefaultDomain } from '@whittle/graph';
import type { BackendName } from '@whittle/tensor';

/** Largest finite float16. */
export const HALF_MAX = 65504;
/** Smallest normal float16 (2^-14). */
export const HALF_MIN_NORMAL = 2 ** -14;

/** What the calibration data showed of one value. */
export interface ValueRange {
  /** Largest finite |x|. */
  maxAbs: number;
  /** Nonzero finite entries. */
  nonzero: number;
  /** Nonzero entries with |x| below {@link HALF_MIN_NORMAL}. */
  tiny: number;
}

/** A node kept in float32 because of a measured range. */
export interface RangeFinding {
  node: Node;
  reason: 'output beyond the float16 range' | 'reads a value beyond the float16 range' | 'output below the float16 normal range' | 'reads a value below the float16 normal range';
  /** The value that decided it. */
  value: string;
  maxAbs: number;
  /** Fraction of nonzero entries below the normal range. */
  underflow: number;
}

/** Options of {@link measureRanges}. */
export interface MeasureOptions {
  maxBatches?: number;
  backend?: BackendName | undefined;
  signal?: AbortSignal | undefined;
  activationRuntime?: ActivationRuntime | undefined;
  calibrationRuntime?: CalibrationRuntimeChoice | undefined;
}

/** Range of every float32 node output of the main graph over the calibration batches. */
export async function measureRanges(model: Model, types: ReadonlyMap<string, OnnxDataType>, calibration: CalibrationSource, opts: MeasureOptions = {}): Promise<{ ranges: Map<string, ValueRange>; batches: number }> {
  const names = [...new Set(model.graph.nodes.filter((n) => n.opType !== 'Constant').flatMap((n) => n.outputs.filter((o) => o && types.get(o) === 'float32')))];
  const ranges = new Map<string, ValueRange>(names.map((n) => [n, { maxAbs: 0, nonzero: 0, tiny: 0 }]));
  const batches = await collectActivations(model, [{
    names,
    // counted where they are computed (onnxruntime reduces in the graph): a speech encoder's
    // 1500×1500 attention maps are never copied out
    smallBelow: HALF_MIN_NORMAL,
    consumeRanges: (got) => {
      for (const [name, g] of got) {
        const r = ranges.get(name)!;
        // a runtime without the counts: the range's ends, every entry counted as normal
        const maxAbs = g.maxAbs ?? Math.max(...[g.min, g.max].map(Math.abs).filter((a) => Number.isFinite(a)), 0);
        r.maxAbs = Math.max(r.maxAbs, maxAbs);
        r.nonzero += g.nonzero ?? g.count;
        r.tiny += g.small ?? 0;
      }
    },
    // collectActivations hands range points their ranges (reduced from the values where a runtime returns them)
    consume() {},
  }], calibration, { pass: 'convert-float16', activationRuntime: opts.activationRuntime, runtime: opts.calibrationRuntime, backend: opts.backend ?? 'cpu', signal: opts.signal, maxBatches: opts.maxBatches });
  return { ranges, batches };
}

/**
 * Nodes of `g` to keep in float32 given the measured ranges: the producer and every reader of a
 * value beyond ±65504, and of a value whose nonzero entries are below the normal range at least
 * `underflowFraction` of the time. Nodes in `alreadyBlocked` are not listed again.
 */
export function findRangeBlocked(g: Graph, ranges: ReadonlyMap<string, ValueRange>, opts: { underflowFraction: number; alreadyBlocked?: ReadonlySet<Node> }): RangeFinding[] {
  const uses = buildUseIndex(g);
  const found = new Map<Node, RangeFinding>();
  const add = (node: Node, f: Omit<RangeFinding, 'node'>): void => {
    if (opts.alreadyBlocked?.has(node) || found.has(node)) return;
    // only ops float16 conversion touches: the default domain, and the com.microsoft weight ops
    if (!isDefaultDomain(node.domain) && node.opType !== 'MatMulNBits' && node.opType !== 'GatherBlockQuantized') return;
    found.set(node, { node, ...f });
  };
  for (const [value, r] of ranges) {
    const underflow = r.nonzero ? r.tiny / r.nonzero : 0;
    const over = r.maxAbs > HALF_MAX;
    const under = !over && r.nonzero > 0 && underflow >= opts.underflowFraction;
    if (!over && !under) continue;
    const producer = uses.producers.get(value)?.node;
    const base = { value, maxAbs: r.maxAbs, underflow };
    if (producer) add(producer, { ...base, reason: over ? 'output beyond the float16 range' : 'output below the float16 normal range' });
    for (const u of uses.consumers.get(value) ?? []) add(u.node, { ...base, reason: over ? 'reads a value beyond the float16 range' : 'reads a value below the float16 normal range' });
  }
  return [...found.values()];
}
