import { WhittleError } from '@whittle/tensor';

/**
 * A model cannot be moved to the requested default-domain opset: `blockers` lists every op that
 * has no exact conversion (op type, node name, graph, source version) with the reason.
 */
export class OpsetConversionError extends WhittleError {
  readonly from: number;
  readonly to: number;
  readonly blockers: string[];
  constructor(from: number, to: number, blockers: string[]) {
    super(
      'E_OPSET_CONVERSION',
      `cannot upgrade the model from opset ${from} to ${to}: ${blockers.length} op(s) have no exact conversion:\n` +
        blockers.map((b) => `  - ${b}`).join('\n') +
        '\nkeep the model at its opset, or replace these ops before upgrading',
    );
    this.from = from;
    this.to = to;
    this.blockers = blockers;
  }
}
