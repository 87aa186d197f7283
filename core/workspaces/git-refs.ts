/**
 * What a bare repository's files tell without a git process: whether a ref exists (asked before
 * every new worktree, where a git process would be a third of a no-op task's git cost; a
 * repository on the reftable backend has no such files, so git is asked there), and whether it
 * was fetched since.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gitSucceeds } from './git.js';

export async function hasRef(gitDir: string, ref: string): Promise<boolean> {
  if (existsSync(join(gitDir, 'reftable')))
    return gitSucceeds(['show-ref', '--verify', '--quiet', ref], gitDir);
  if (existsSync(join(gitDir, ref))) return true;
  const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
  return packed.split('\n').some((line) => line.endsWith(` ${ref}`));
}

/** Changes whenever the mirror is fetched; null when it never was. */
export function fetchSignature(mirror: string): string | null {
  try {
    const { mtimeNs, size, ino } = statSync(join(mirror, 'FETCH_HEAD'), { bigint: true });
    return `${ino}:${mtimeNs}:${size}`;
  } catch {
    return null;
  }
}
