/** The one place this package reaches @whittle/graph's interpreter and training API. */
export { runModel, GraphModule, fit, type Batch } from '@whittle/graph';
