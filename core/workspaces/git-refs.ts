/**
 * Whether a ref exists in a bare repository, read from its files: it is asked before every new
 * worktree, and a git process for it would be a third of a no-op task's git cost. A repository
 * on the reftable backend has no such files, so git is asked there.
 */
import { existsSync } from 'node:fs';
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
