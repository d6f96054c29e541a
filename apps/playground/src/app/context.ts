import type { EvalSource } from './eval_source.js';
import type { Store } from './state.js';
import type { WorkerClient } from './worker_client.js';

/** What the flows (open, compress, evaluate) work with. */
export interface AppContext {
  store: Store;
  client: WorkerClient;
  evalSource: EvalSource;
}
