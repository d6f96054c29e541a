/**
 * Labels from class subfolders (images, audio). Folders named by non-negative integers are those
 * class indices (`2/`, `7/` of a 10-class model are classes 2 and 7, as a labels file's numbers
 * are); other names are numbered in sorted order unless the model's class names are given.
 * Hidden folders (`.ipynb_checkpoints`, `.git`) and `__MACOSX` are not classes.
 */
import { DataError } from './errors.js';

/** Whether a folder is tooling, not data (hidden, or a macOS archive's resource forks). */
export function skippedFolder(name: string): boolean {
  return name.startsWith('.') || name === '__MACOSX';
}

/** The classes of some class folders and each folder's label. */
export interface FolderClasses {
  /** Class names in label order (numbered folders: sorted by number; the label is the number). */
  classes: string[];
  /** Folder names are the class indices themselves. */
  numbered: boolean;
  /** Label of a class folder (a {@link DataError} naming `file` when it is not a class). */
  label(folder: string, file: string, sample: number): number;
  /** How the folders became labels, for the data's description. */
  describe(): string;
}

/** Labels of `folders` (one entry per sample, duplicates fine), by `given` class names when set. */
export function folderClasses(folders: readonly string[], given?: readonly string[]): FolderClasses {
  const names = [...new Set(folders)];
  const numbered = !given && names.every((n) => /^\d+$/.test(n));
  const classes = given ? [...given] : numbered ? names.sort((a, b) => Number(a) - Number(b)) : names.sort();
  const list = (): string => `${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''}`;
  return {
    classes,
    numbered,
    label(folder, file, sample) {
      if (numbered) return Number(folder);
      const k = classes.indexOf(folder);
      if (k < 0) throw new DataError(`class folder '${folder}' is not one of the classes ${classes.join(', ')}`, { file, sample });
      return k;
    },
    describe: () => (numbered ? ` in ${classes.length} classes named by index (${list()})` : ` in ${classes.length} classes (${list()}${given ? '' : '; labels 0… in sorted order'})`),
  };
}
