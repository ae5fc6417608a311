// Where a learner's progress is kept: $XDG_STATE_HOME/podnet/tour.json, else
// ~/.local/state/podnet/tour.json (the XDG base directory spec's place for state). Written whole
// through a temporary file and a rename, so an interrupted write never leaves half a file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { emptyProgress, parseProgress, type Progress } from '../model/tour/progress.js';

/** The progress file's path for this user. */
export function progressPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'podnet', 'tour.json');
}

/** The saved progress (none yet: empty). */
export async function readProgress(path = progressPath()): Promise<Progress> {
  try {
    return parseProgress(await readFile(path, 'utf8'));
  } catch {
    return emptyProgress();
  }
}

/** Saves progress. */
export async function writeProgress(p: Progress, path = progressPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(p, null, 2)}\n`);
  await rename(tmp, path);
}
