// The chapters: one YAML file each in the package's tour/ directory (or --dir, while writing one),
// numbered by their order (files are named NN-slug.yaml). Every file is validated when loaded; one
// bad file stops the tour with a line naming the file and the field.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { packagePath } from '../host/package-root.js';
import { UserError } from '../model/errors.js';
import { parseChapter, type Chapter } from '../model/tour/chapter.js';

/** The directory podnet's own chapters are in. */
export const chaptersDir = (): string => packagePath('tour');

/** Loads and validates every chapter of `dir`, in file-name order. */
export async function loadChapters(dir = chaptersDir()): Promise<Chapter[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (e) {
    throw new UserError('not-found', `${dir}: cannot read the tour's chapters (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!files.length) throw new UserError('not-found', `${dir}: no chapter files (NN-name.yaml)`);
  return Promise.all(files.map(async (f, i) => parseChapter(dir === chaptersDir() ? `tour/${f}` : join(dir, f), await readFile(join(dir, f), 'utf8'), i + 1)));
}

/** The chapter a user named: its number (1-based) or its file's slug (`bridge` for 03-bridge.yaml). */
export function pickChapter(chapters: readonly Chapter[], arg: string): Chapter {
  const n = Number(arg);
  const c = Number.isInteger(n) ? chapters[n - 1] : chapters.find((x) => basename(x.file).replace(/^\d+-|\.ya?ml$/g, '') === arg);
  if (!c) throw new UserError('not-found', `no chapter "${arg}": give 1-${chapters.length} (podnet tour lists them)`);
  return c;
}
