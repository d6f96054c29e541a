/**
 * Model input names by role, as Optimum / Transformers.js exports spell them; shared by the
 * synthetic data and the first-step decoder feeds so both recognise the same inputs.
 */

/** Attention masks: all ones (every token attends), as a tokenizer gives for unpadded text. */
export const MASK_NAME = /(^|[._])(attention_)?mask$/i;
/** A key/value cache fed back in (`past_key_values.N.key`). */
export const CACHE_NAME = /past|cache/i;
/** A merged decoder's branch flag (`use_cache_branch`): true only with a cache to use. */
export const USE_CACHE_NAME = /use_cache/i;
/** Position ids: 0..S-1 along the sequence (after the past's length), as Transformers.js feeds them. */
export const POSITION_NAME = /(^|[._])position_ids$/i;
/** Token type (segment) ids: all 0 (one segment), as a tokenizer gives for a single text. */
export const TOKEN_TYPE_NAME = /(^|[._])token_type_ids$/i;
