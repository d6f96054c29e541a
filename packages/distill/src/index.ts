/**
 * @whittle/distill — knowledge distillation on ONNX graphs: a runtime-neutral teacher interface
 * (Whittle's interpreter here, onnxruntime-node in `@whittle/distill/node`), Hinton's loss with
 * temperature, feature matching through learned projections, and the `distill` pass (importing
 * this entry registers it; `@whittle/distill/passes` exports it without registering).
 * @module
 */
import { registerPasses } from '@whittle/graph';
import { DISTILL_PASSES } from './passes.js';

export { distillPass, distillOptions } from './distill_pass.js';
export { distill, type DistillOptions, type DistillResult, type FeaturePair } from './distill.js';
export { distillOnData, type DistillOnDataOptions, type DistillOnDataResult } from './distill_any.js';
export { buildStudent, isStudentSpec, type StudentSpec } from './student.js';
export { distillationLoss, type DistillationLossOptions } from './loss.js';
export { interpreterTeacher, teacherOutputs, type TeacherRunner, type TeacherOutputs, type InterpreterTeacherOptions } from './teacher.js';

export { DISTILL_PASSES } from './passes.js';

// The package's one side effect: register its passes (a name already registered throws).
registerPasses(DISTILL_PASSES);
