/**
 * @whittle/distill — knowledge distillation on ONNX graphs: a runtime-neutral teacher interface
 * (Whittle's interpreter here, onnxruntime-node in `@whittle/distill/node`), Hinton's loss with
 * temperature, feature matching through learned projections, and the `distill` pass.
 * @module
 */
import { hasPass, registerPass } from '@whittle/graph';
import { distillPass } from './distill_pass.js';

export { distillPass, distillOptions } from './distill_pass.js';
export { distill, type DistillOptions, type DistillResult, type FeaturePair } from './distill.js';
export { distillOnData, type DistillOnDataOptions, type DistillOnDataResult } from './distill_any.js';
export { buildStudent, isStudentSpec, type StudentSpec } from './student.js';
export { distillationLoss, type DistillationLossOptions } from './loss.js';
export { interpreterTeacher, teacherOutputs, type TeacherRunner, type TeacherOutputs, type InterpreterTeacherOptions } from './teacher.js';

if (!hasPass(distillPass.name)) registerPass(distillPass);
