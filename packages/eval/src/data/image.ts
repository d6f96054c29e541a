/**
 * Image decoding (PNG with fast-png, JPEG with jpeg-js — both pure JavaScript, browser-safe) and
 * preprocessing: resize (bilinear), center crop, scale, mean/std, RGB/BGR/gray, NCHW/NHWC.
 */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { DataError } from './errors.js';
import type { ModelInputSpec } from './source.js';

/** A decoded image: `height × width × 3` RGB floats in [0, 1], row-major (HWC). */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** How images become model input. Unset fields come from the model's input shape or defaults. */
export interface ImagePreprocess {
  /** Resize to [height, width], or the shorter side to this many pixels (aspect kept). Default: the model's H×W when fixed. */
  resize?: number | readonly [number, number] | undefined;
  /** Center crop to [height, width] (or a square) after resizing. */
  crop?: number | readonly [number, number] | undefined;
  /** Multiply the [0, 255] pixel values by this first (default 1/255: values in [0, 1]). */
  scale?: number | undefined;
  /** Subtract per channel (after scale), e.g. [0.485, 0.456, 0.406]. */
  mean?: readonly number[] | undefined;
  /** Divide per channel (after mean), e.g. [0.229, 0.224, 0.225]. */
  std?: readonly number[] | undefined;
  /** Channel order: 'rgb' (default), 'bgr', or 'gray' (one channel, ITU-R 601 luma). */
  channels?: 'rgb' | 'bgr' | 'gray' | undefined;
  /** 'nchw' (default unless the model's last dim is 1 or 3 and its second is not) or 'nhwc'. */
  layout?: 'nchw' | 'nhwc' | undefined;
}

/** Whether bytes start like a PNG or a JPEG. */
export function imageFormat(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  return undefined;
}

/** Decode a PNG or JPEG file into RGB floats in [0, 1] (alpha dropped, gray repeated). */
export function decodeImage(bytes: Uint8Array, file: string): RgbImage {
  const format = imageFormat(bytes);
  try {
    if (format === 'png') {
      const png = decodePng(bytes);
      let data = png.data;
      let channels = png.channels;
      if (png.palette) {
        data = convertIndexedToRgb(png);
        channels = png.palette[0]?.length ?? 3;
      } else if (png.depth !== 8 && png.depth !== 16) {
        throw new DataError(`PNG bit depth ${png.depth} is not supported; save it with 8 or 16 bits per channel`, { file });
      }
      const max = png.depth === 16 && !png.palette ? 65535 : 255;
      return toRgb(data, png.width, png.height, channels, max);
    }
    if (format === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return toRgb(img.data, img.width, img.height, 4, 255);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot decode the ${format?.toUpperCase()} image: ${(e as Error).message}`, { file }, { cause: e });
  }
  throw new DataError('not a PNG or JPEG image (by its first bytes); convert it to PNG or JPEG', { file });
}

function toRgb(src: ArrayLike<number>, width: number, height: number, channels: number, max: number): RgbImage {
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const k = channels >= 3 ? c : 0; // gray (+alpha) repeats the gray value
      out[p * 3 + c] = src[p * channels + k]! / max;
    }
  }
  return { width, height, data: out };
}

/** Bilinear resize (half-pixel centers, as PIL and torchvision do without antialiasing). */
export function resizeBilinear(img: RgbImage, height: number, width: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const out = new Float32Array(width * height * 3);
  const sy = img.height / height;
  const sx = img.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const a = img.data[(y0 * img.width + x0) * 3 + c]!;
        const b = img.data[(y0 * img.width + x1) * 3 + c]!;
        const d = img.data[(y1 * img.width + x0) * 3 + c]!;
        const e = img.data[(y1 * img.width + x1) * 3 + c]!;
        out[(y * width + x) * 3 + c] = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy;
      }
    }
  }
  return { width, height, data: out };
}

/** Center crop (the crop must fit). */
export function centerCrop(img: RgbImage, height: number, width: number, file: string): RgbImage {
  if (height > img.height || width > img.width) throw new DataError(`crop ${height}×${width} is larger than the ${img.height}×${img.width} image; resize first`, { file });
  const top = Math.floor((img.height - height) / 2);
  const left = Math.floor((img.width - width) / 2);
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + width) * 3), y * width * 3);
  return { width, height, data: out };
}

/** The preprocessing with the model's shape filled in: fixed sizes, channel count, layout. */
export interface ResolvedPreprocess {
  resize?: readonly [number, number] | number | undefined;
  /** Scale to this height (or width), the other side by the aspect ratio: the model fixes only that side. */
  fit?: { height: number } | { width: number } | undefined;
  crop?: readonly [number, number] | undefined;
  scale: number;
  mean: readonly number[];
  std: readonly number[];
  channels: 'rgb' | 'bgr' | 'gray';
  layout: 'nchw' | 'nhwc';
}

/**
 * The preprocessing in words, for the data line a command prints: e.g. "resize 224×224, scale
 * 1/255, mean 0.485,0.456,0.406, std 0.229,0.224,0.225, rgb nchw" — what a user checks against
 * the exporter's own transforms.
 */
export function describePreprocess(p: ResolvedPreprocess): string {
  const size = p.resize !== undefined
    ? typeof p.resize === 'number' ? `short side to ${p.resize}` : `resize ${p.resize[0]}×${p.resize[1]}`
    : p.fit ? ('height' in p.fit ? `height to ${p.fit.height} (aspect kept)` : `width to ${p.fit.width} (aspect kept)`) : 'size as stored';
  const crop = p.crop ? `, center crop ${p.crop[0]}×${p.crop[1]}` : '';
  const scale = Math.abs(p.scale - 1 / 255) < 1e-12 ? '1/255' : String(p.scale);
  const list = (v: readonly number[]): string => (v.every((x) => x === v[0]) ? String(v[0]) : v.join(','));
  return `${size}${crop}, scale ${scale}, mean ${list(p.mean)}, std ${list(p.std)}, ${p.channels} ${p.layout}`;
}

/** Fill a preprocessing spec from a 4-d image input's shape ([N, C, H, W] or [N, H, W, C]). */
export function resolvePreprocess(p: ImagePreprocess, input: ModelInputSpec | undefined): ResolvedPreprocess {
  const s = input?.shape;
  const num = (d: unknown): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);
  const nhwcByShape = s?.length === 4 && (num(s[3]) === 1 || num(s[3]) === 3) && num(s[1]) !== 1 && num(s[1]) !== 3;
  const layout = p.layout ?? (nhwcByShape ? 'nhwc' : 'nchw');
  const [h, w, c] = s?.length === 4 ? (layout === 'nchw' ? [num(s[2]), num(s[3]), num(s[1])] : [num(s[1]), num(s[2]), num(s[3])]) : [undefined, undefined, undefined];
  const channels = p.channels ?? (c === 1 ? 'gray' : 'rgb');
  const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
  const crop = p.crop !== undefined ? pair(p.crop) : undefined;
  const resize = p.resize ?? (crop ? undefined : h !== undefined && w !== undefined ? ([h, w] as const) : undefined);
  // one side fixed and the other dynamic (a text-line recognizer: height 48, any width): images are
  // scaled to the fixed side with their aspect kept, as the model's own preprocessing does
  const fit = p.resize === undefined && !crop && (h === undefined) !== (w === undefined) ? (h !== undefined ? { height: h } : { width: w! }) : undefined;
  const k = channels === 'gray' ? 1 : 3;
  // one value serves every channel
  const perChannel = (v: readonly number[] | undefined, d: number): readonly number[] => (v === undefined ? new Array<number>(k).fill(d) : v.length === 1 ? new Array<number>(k).fill(v[0]!) : v);
  const mean = perChannel(p.mean, 0);
  const std = perChannel(p.std, 1);
  if (mean.length !== k || std.length !== k) throw new DataError(`image preprocessing: mean and std need ${k} value(s) for ${channels}, got ${mean.length} and ${std.length}`);
  return { resize, ...(fit ? { fit } : {}), crop, scale: p.scale ?? 1 / 255, mean, std, channels, layout };
}

/** Apply a resolved preprocessing: a sample of shape [C, H, W] or [H, W, C]. */
export function preprocessImage(img: RgbImage, p: ResolvedPreprocess, file: string): { data: Float32Array; shape: number[] } {
  let im = img;
  if (p.resize !== undefined) {
    if (typeof p.resize === 'number') {
      const k = p.resize / Math.min(im.width, im.height);
      im = resizeBilinear(im, Math.round(im.height * k), Math.round(im.width * k));
    } else im = resizeBilinear(im, p.resize[0], p.resize[1]);
  } else if (p.fit) {
    const k = 'height' in p.fit ? p.fit.height / im.height : p.fit.width / im.width;
    const height = 'height' in p.fit ? p.fit.height : Math.max(1, Math.round(im.height * k));
    const width = 'width' in p.fit ? p.fit.width : Math.max(1, Math.round(im.width * k));
    if (height !== im.height || width !== im.width) im = resizeBilinear(im, height, width);
  }
  if (p.crop) im = centerCrop(im, p.crop[0], p.crop[1], file);
  const k = p.channels === 'gray' ? 1 : 3;
  const { width: W, height: H } = im;
  const out = new Float32Array(k * H * W);
  const s = p.scale * 255; // pixels are held in [0, 1]
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const q = (y * W + x) * 3;
      const r = im.data[q]!;
      const g = im.data[q + 1]!;
      const b = im.data[q + 2]!;
      const vals = p.channels === 'gray' ? [0.299 * r + 0.587 * g + 0.114 * b] : p.channels === 'bgr' ? [b, g, r] : [r, g, b];
      for (let c = 0; c < k; c++) {
        const v = (vals[c]! * s - p.mean[c]!) / p.std[c]!;
        out[p.layout === 'nchw' ? (c * H + y) * W + x : (y * W + x) * k + c] = v;
      }
    }
  }
  return { data: out, shape: p.layout === 'nchw' ? [k, H, W] : [H, W, k] };
}
