// Opening CNI_NETNS: the spec gives a path; the plugin must fail clearly if it cannot be opened.
import { stat } from 'node:fs/promises';
import { netnsAt, type Netns } from '../host/netns.js';
import { CniError, ErrorCode } from './spec.js';

/** A handle for CNI_NETNS, or code 5 when it is not there. Equivalent to: `test -e PATH`. */
export async function openNetns(path: string): Promise<Netns> {
  if (!(await netnsExists(path))) throw new CniError(ErrorCode.IoFailure, `failed to open netns "${path}": no such file or directory`);
  return netnsAt(path);
}

/** True when the namespace file exists. */
export async function netnsExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
