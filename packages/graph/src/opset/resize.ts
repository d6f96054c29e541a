import { attr, getFloats, getString } from '../ir/attributes.js';
import { fromValues } from '../fold/layout.js';
import type { OpRule } from './rule.js';

/**
 * Upsample: 9 moved `scales` from an attribute to an input; 10 deprecated it in favour of
 * Resize-10, which has the same inputs (X, scales) and the same meaning.
 */
export const upsampleRule: OpRule = {
  since: 7,
  belowSince: 'Upsample-1 uses height_scale/width_scale and mode bilinear',
  steps: [
    {
      at: 9,
      apply(node, ctx) {
        const scales = getFloats(node, 'scales');
        if (!scales) return 'Upsample-7 without the floats attribute scales';
        node.attributes.delete('scales');
        node.inputs = [node.inputs[0]!, ctx.initializer(`${node.name || 'upsample'}_scales`, fromValues(scales, [scales.length], 'float32'))];
        ctx.note('scales attribute -> input (Upsample-9)');
      },
    },
    {
      at: 10,
      apply(node, ctx) {
        node.opType = 'Resize';
        ctx.fromUpsample.add(node);
        ctx.note('Upsample -> Resize (Upsample is deprecated since 10)');
      },
    },
  ],
};

/**
 * Resize-10 -> 11: inputs become (X, roi, scales[, sizes]) and the sampling is configurable.
 * Resize-10 samples at x_out / scale ("asymmetric"); its nearest rounding (as onnxruntime
 * implements it) takes the floor when upsampling and the ceiling when downsampling, so the
 * rounding is chosen from the constant scales. Resize-13 dropped tf_half_pixel_for_nn.
 */
export const resizeRule: OpRule = {
  since: 10,
  steps: [
    {
      at: 11,
      apply(node, ctx) {
        const mode = getString(node, 'mode', 'nearest');
        let nearest = 'floor';
        if (mode === 'nearest' && !ctx.fromUpsample.has(node)) {
          const scales = ctx.constValues(node.inputs[1] ?? '');
          if (!scales) return 'its nearest rounding depends on whether each axis downsamples, and its scales are not a constant';
          const down = scales.some((s) => s < 1);
          if (down && scales.some((s) => s > 1)) return 'it mixes up- and downsampling axes, whose nearest roundings (floor / ceil) differ';
          if (down) nearest = 'ceil';
        }
        const roi = ctx.initializer(`${node.name || 'resize'}_roi`, fromValues([], [0], 'float32'));
        node.inputs = [node.inputs[0]!, roi, node.inputs[1]!];
        node.attributes.set('coordinate_transformation_mode', attr.string('asymmetric'));
        if (mode === 'nearest') node.attributes.set('nearest_mode', attr.string(nearest));
        ctx.note(`inputs (X, scales) -> (X, roi, scales); coordinate_transformation_mode=asymmetric${mode === 'nearest' ? `, nearest_mode=${nearest}` : ''} keep Resize-10 sampling (Resize-11)`);
      },
    },
    {
      at: 13,
      apply(node) {
        if (getString(node, 'coordinate_transformation_mode') === 'tf_half_pixel_for_nn') {
          return 'coordinate_transformation_mode tf_half_pixel_for_nn was removed in Resize-13';
        }
      },
    },
  ],
};
