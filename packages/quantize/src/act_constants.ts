import type { Graph, NameGenerator } from '@whittle/graph';
import { cpuTensor } from './emit.js';
import type { GroupParams } from './quant_math.js';

/**
 * Add the scale and zero-point initializers of an activation `a` (int8 when `signed`, else
 * uint8) and return their names. Shared by the QDQ (static.ts) and QOperator emitters.
 */
export function actConstants(g: Graph, names: NameGenerator, a: string, p: GroupParams, signed: boolean): { sName: string; zName: string } {
  const sName = names.value(`${a}_scale`);
  const zName = names.value(`${a}_zero_point`);
  g.initializers.set(sName, cpuTensor([p.scale], [], 'float32'));
  g.initializers.set(zName, cpuTensor([signed ? p.zeroPoint - 128 : p.zeroPoint], [], signed ? 'int8' : 'uint8'));
  return { sName, zName };
}
