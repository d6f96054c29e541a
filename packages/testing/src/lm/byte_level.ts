/**
 * GPT-2's byte-level alphabet: every byte maps to one printable character (printable ASCII and
 * Latin-1 stand for themselves, the rest shift to U+0100…), so BPE works on text with no unknown
 * symbols. The same table the ByteLevel pre-tokenizer and decoder of Hugging Face tokenizers use.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : 256 + n++));
  return out;
})();

/** The ByteLevel pre-tokenizer's split (GPT-2's pattern): contractions, words, numbers, punctuation runs, whitespace. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The pre-tokens of a text, each as its UTF-8 bytes. */
export function preTokenize(text: string): Uint8Array[] {
  const enc = new TextEncoder();
  return (text.match(GPT2_SPLIT) ?? []).map((w) => enc.encode(w));
}
