/** What `git status --porcelain=v2 --branch` says about a worktree, parsed. Pure. */
export interface GitStatus {
  /** Uncommitted changes (tracked or untracked). */
  dirty: boolean;
  /** The current branch's upstream as git names it (`origin/main`); null without one. */
  upstream: string | null;
  /** Commits on HEAD that the upstream does not have; null when git gave no count. */
  ahead: number | null;
}

export function parseStatus(porcelainV2: string): GitStatus {
  let dirty = false;
  let upstream: string | null = null;
  let ahead: number | null = null;
  for (const line of porcelainV2.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith('# ')) {
      dirty = true;
      continue;
    }
    const [, key, value = ''] = /^# (\S+) ?(.*)$/.exec(line) ?? [];
    if (key === 'branch.upstream') upstream = value;
    else if (key === 'branch.ab') {
      const count = /^\+(\d+) -\d+$/.exec(value)?.[1];
      ahead = count === undefined ? null : Number(count);
    }
  }
  return { dirty, upstream, ahead };
}
