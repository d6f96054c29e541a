import { attr, getString } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/** Scatter (deprecated at 11) is ScatterElements-11 with the same inputs and attributes. */
export const scatterRule: OpRule = {
  since: 9,
  steps: [{
    at: 11,
    apply(node, ctx) {
      node.opType = 'ScatterElements';
      ctx.note('Scatter -> ScatterElements (Scatter is deprecated since 11)');
    },
  }],
};

/** RoiAlign-16 added coordinate_transformation_mode, default half_pixel; 10 behaved as output_half_pixel. */
export const roiAlignRule: OpRule = {
  since: 10,
  steps: [{
    at: 16,
    apply(node, ctx) {
      node.attributes.set('coordinate_transformation_mode', attr.string('output_half_pixel'));
      ctx.note('coordinate_transformation_mode=output_half_pixel keeps RoiAlign-10 sampling (RoiAlign-16)');
    },
  }],
};

/** GridSample-20 renamed the modes bilinear -> linear and bicubic -> cubic (default was bilinear). */
export const gridSampleRule: OpRule = {
  since: 16,
  steps: [{
    at: 20,
    apply(node, ctx) {
      const mode = getString(node, 'mode', 'bilinear');
      const renamed = mode === 'bilinear' ? 'linear' : mode === 'bicubic' ? 'cubic' : mode;
      node.attributes.set('mode', attr.string(renamed));
      if (renamed !== mode) ctx.note(`mode ${mode} -> ${renamed} (GridSample-20)`);
    },
  }],
};

/**
 * ConvTranspose-11 rewrote how auto_pad SAME_UPPER/SAME_LOWER split the padding (the
 * total_padding equations); explicit pads and VALID/NOTSET mean the same in 1 and 11, the SAME
 * modes are not converted.
 */
export const convTransposeRule: OpRule = {
  since: 1,
  steps: [{
    at: 11,
    apply(node) {
      const pad = getString(node, 'auto_pad', 'NOTSET');
      if (pad === 'SAME_UPPER' || pad === 'SAME_LOWER') return `auto_pad=${pad} padding rules were rewritten in ConvTranspose-11; give explicit pads instead`;
    },
  }],
};
