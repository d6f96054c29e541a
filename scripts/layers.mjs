// The package layering of docs/design.md ("Packages and layering"): which workspace package may
// import which. Read by scripts/check-boundaries.mjs (package.json dependencies and import lines)
// and scripts/check-structure.mjs (dependency-cruiser on resolved imports).
export const ALLOWED = {
  tensor: [],
  graph: ['tensor'],
  onnx: ['graph', 'tensor'],
  quantize: ['graph', 'tensor'],
  prune: ['graph', 'tensor'],
  lowrank: ['graph', 'tensor'],
  distill: ['graph', 'tensor'],
  eval: ['onnx', 'graph', 'tensor'],
  testing: ['tensor', 'graph', 'onnx', 'eval'],
};

/** Where to read why: printed with every boundary or structure problem. */
export const DESIGN = 'docs/design.md#packages-and-layering';
