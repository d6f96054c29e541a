/**
 * A folder of PNG/JPEG images: labels from class subfolders (`cat/1.png`, `dog/2.jpg`; classes
 * sorted by name unless given, folders named by numbers are those class indices: class_folders.ts) or from a labels file (`<image path>,<label>` per line, label an
 * index or a class name), none otherwise. Images are decoded one at a time.
 */
import { type FolderClasses, folderClasses, skippedFolder } from './class_folders.js';
import { DataError } from './errors.js';
import { type DataFiles, joinPath } from './files.js';
import { type ImagePreprocess, decodeImage, describePreprocess, preprocessImage, resolvePreprocess } from './image.js';
import type { DataChunk, DataSource, ModelInputSpec } from './source.js';

const IMAGE = /\.(png|jpe?g)$/i;
const OTHER_IMAGE = /\.(bmp|gif|webp|tiff?|avif|heic|heif|ppm|pgm)$/i;

/** Options of {@link imageFolderSource}. */
export interface ImageFolderOptions {
  /** Model input the images feed (default: the model's only input). */
  input?: string | undefined;
  preprocess?: ImagePreprocess | undefined;
  /** File of `<image path relative to the folder>,<label>` lines (comma or tab; '#' comments). */
  labelsFile?: string | undefined;
  /** Class names in the model's output order (default: the subfolder names, sorted). */
  classes?: readonly string[] | undefined;
}

/** Image files of a folder, with their class folder ('' for images directly inside; hidden folders skipped), and the image files of other formats left unread. */
export async function listImages(files: DataFiles, dir: string): Promise<{ path: string; rel: string; cls: string }[] & { unread: string[] }> {
  const out: { path: string; rel: string; cls: string }[] = [];
  // image formats that are not decoded: said in the description, not silently dropped
  const unread: string[] = [];
  for (const e of await files.list(dir)) {
    if (!e.dir && IMAGE.test(e.name)) out.push({ path: joinPath(dir, e.name), rel: e.name, cls: '' });
    if (!e.dir && OTHER_IMAGE.test(e.name)) unread.push(e.name);
    if (e.dir && !skippedFolder(e.name)) {
      for (const f of await files.list(joinPath(dir, e.name))) {
        if (!f.dir && IMAGE.test(f.name)) out.push({ path: joinPath(dir, e.name, f.name), rel: `${e.name}/${f.name}`, cls: e.name });
        if (!f.dir && OTHER_IMAGE.test(f.name)) unread.push(`${e.name}/${f.name}`);
      }
    }
  }
  return Object.assign(out, { unread });
}

async function readLabelsFile(files: DataFiles, path: string): Promise<Map<string, string>> {
  const text = new TextDecoder().decode(await files.read(path));
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const parts = t.split(/[,\t]/).map((s) => s.trim());
    if (parts.length < 2 || !parts[0] || !parts[1]) throw new DataError(`line ${i + 1} is not '<image>,<label>': ${t}`, { file: path });
    if (/^(file|path|image|filename)$/i.test(parts[0]) && i === 0) return; // header
    out.set(parts[0].replace(/\\/g, '/'), parts[1]);
  });
  return out;
}

/** Images of a folder as samples of one image input. */
export async function imageFolderSource(files: DataFiles, dir: string, inputs: readonly ModelInputSpec[], opts: ImageFolderOptions = {}): Promise<DataSource> {
  const name = opts.input ?? (inputs.length === 1 ? inputs[0]!.name : undefined);
  if (!name) throw new DataError(`the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); name the one the images feed (input: in a data spec)`, { file: dir });
  const spec = inputs.find((i) => i.name === name);
  if (inputs.length && !spec) throw new DataError(`the model has no input '${name}' (inputs: ${inputs.map((i) => i.name).join(', ')})`, { file: dir });
  const pre = resolvePreprocess(opts.preprocess ?? {}, spec);
  const images = await listImages(files, dir);
  if (!images.length) throw new DataError('no .png/.jpg/.jpeg images here or in its subfolders', { file: dir });
  let labels: Int32Array | undefined;
  let classes: string[] = [];
  let folders: FolderClasses | undefined;
  if (opts.labelsFile !== undefined) {
    const byFile = await readLabelsFile(files, opts.labelsFile);
    const names = [...new Set(byFile.values())];
    const numeric = names.every((v) => /^\d+$/.test(v));
    classes = opts.classes ? [...opts.classes] : numeric ? [] : names.sort();
    labels = Int32Array.from(images, (im, i) => {
      const v = byFile.get(im.rel) ?? byFile.get(im.rel.split('/').pop()!);
      if (v === undefined) throw new DataError(`no label for image '${im.rel}' in ${opts.labelsFile}`, { file: im.path, sample: i });
      const k = /^\d+$/.test(v) && !opts.classes ? Number(v) : classes.indexOf(v);
      if (k < 0) throw new DataError(`label '${v}' is not one of the classes ${classes.join(', ')}`, { file: im.path, sample: i });
      return k;
    });
  } else if (images.every((im) => im.cls !== '')) {
    folders = folderClasses(images.map((im) => im.cls), opts.classes);
    labels = Int32Array.from(images, (im, i) => folders!.label(im.cls, im.path, i));
  } else if (images.some((im) => im.cls !== '')) {
    throw new DataError('some images sit in class subfolders and some directly in the folder; put every image in a class folder, or none', { file: dir });
  }
  const unread = images.unread.length ? `; ${images.unread.length} image(s) of other formats not read, only PNG and JPEG (${images.unread.slice(0, 3).join(', ')}${images.unread.length > 3 ? ', …' : ''})` : '';
  const desc = `${images.length} image(s) from ${dir}${folders ? folders.describe() : labels ? (classes.length ? ` in ${classes.length} classes (${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''})` : ' with labels') : ''}${unread}; preprocessing: ${describePreprocess(pre)}`;
  return {
    kind: 'images',
    description: desc,
    dataFree: false,
    hasLabels: labels !== undefined,
    size: images.length,
    async *chunks(): AsyncGenerator<DataChunk> {
      for (let i = 0; i < images.length; i++) {
        const im = images[i]!;
        const px = preprocessImage(decodeImage(await files.read(im.path), im.path), pre, im.path);
        const chunk: DataChunk = { inputs: { [name]: { data: px.data, shape: [1, ...px.shape], dtype: 'float32' } }, count: 1, file: im.path, first: i };
        if (labels) chunk.labels = labels.subarray(i, i + 1);
        yield chunk;
      }
    },
  };
}
