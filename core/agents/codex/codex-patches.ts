/** codex's patches against the worktree: which of them stay inside it, and how codex is answered. */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ApprovalAnswer } from '../../approvals/approval.js';

export function patchDecision(
  answer: ApprovalAnswer | undefined,
): 'accept' | 'acceptForSession' | 'decline' {
  if (answer?.decision !== 'allow') return 'decline';
  return answer.scope === 'task' ? 'acceptForSession' : 'accept';
}

/**
 * A patch is `edit` when every path it touches (and the root it asks to write under, if any)
 * is inside the worktree; otherwise `outside`. Paths codex did not announce count as outside.
 */
export function patchTarget(
  paths: string[] | null,
  grantRoot: string | null,
  worktree: string,
): { category: 'edit' | 'outside'; subject: string } {
  const touched = [...(paths ?? []), ...(grantRoot === null ? [] : [grantRoot])];
  const inside = paths !== null && touched.every((path) => isInside(worktree, path));
  const shown = touched.map((path) => displayPath(worktree, path));
  const subject =
    shown.length === 0
      ? 'files codex did not name'
      : shown.length > 5
        ? `${shown.slice(0, 5).join(', ')} and ${shown.length - 5} more`
        : shown.join(', ');
  return { category: inside ? 'edit' : 'outside', subject };
}

export function isInside(worktree: string, path: string): boolean {
  const root = resolve(worktree);
  const target = resolve(root, path);
  return target === root || target.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function displayPath(worktree: string, path: string): string {
  if (!isInside(worktree, path)) return isAbsolute(path) ? path : resolve(worktree, path);
  return relative(resolve(worktree), resolve(worktree, path)) || '.';
}
