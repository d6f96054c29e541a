/**
 * The ONNX IR version released with each default-domain opset (docs/Versioning.md of ONNX): a
 * model importing opset N needs at least this IR version.
 */
const IR_FOR_OPSET: Record<number, number> = {
  7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10,
};

/** Lowest and highest default-domain opset {@link upgradeOpset} converts to. */
export const MIN_TARGET_OPSET = 7;
export const MAX_TARGET_OPSET = 21;

/** The IR version a model at default-domain `opset` needs (undefined outside 7..21). */
export function irVersionForOpset(opset: number): number | undefined {
  return IR_FOR_OPSET[opset];
}
