/**
 * After a successful run on a session's worktree: commit what the agent left uncommitted, then
 * push, open or update the pull request and comment on the issue. A failure here does not undo
 * the success: it is reported in the summary.
 */
import { errorMessage } from '../errors.js';
import { forgeFor } from '../forges/forge.js';
import { issueNumberOf } from '../issue-ref.js';
import { NO_CHANGES, type WorkspaceTarget, type WorktreeStatus } from '../workspaces/workspaces.js';
import { truncate } from './attempt-verdict.js';
import type { AttemptStart, StepDeps, Workspace } from './run-steps.js';

export async function handOff(
  deps: StepDeps,
  attempt: AttemptStart,
  { target }: Workspace & { target: WorkspaceTarget },
  answer: string | null,
  /** Known when this run read the issue; else the forge reads it. */
  issueTitle: string | null,
): Promise<string> {
  // Agents that commit may still leave work behind; it is part of the run's result either way.
  const before = await deps.ctx.workspaces.status(target);
  if (before.dirty) await commitLeftovers(deps, attempt, target, answer);
  // A status taken before a commit is stale; one with nothing to commit still holds.
  const status = before.dirty ? null : before;
  return pushAndReport(deps, attempt, target, status, answer, issueTitle);
}

async function commitLeftovers(
  { ctx }: StepDeps,
  { task, transcript }: AttemptStart,
  target: WorkspaceTarget,
  answer: string | null,
): Promise<void> {
  const { workspaces } = ctx;
  const subject = truncate((answer ?? '').split('\n')[0]?.trim() || `work on ${target.branch}`, 72);
  try {
    await workspaces.commitAll(
      target,
      `${subject}\n\nCommitted by kugetsu for task #${task.id} (${task.agent}).`,
    );
    transcript.note(`committed the agent's changes: ${subject}`);
  } catch (err) {
    transcript.note(`could not commit the agent's changes: ${errorMessage(err)}`);
  }
}

/** Diffstat and hand-off; a failed push does not undo a successful run, it is reported. */
async function pushAndReport(
  { ctx, ledger }: StepDeps,
  { task, transcript }: AttemptStart,
  target: WorkspaceTarget,
  known: WorktreeStatus | null,
  answer: string | null,
  issueTitle: string | null,
): Promise<string> {
  const { workspaces } = ctx;
  const issueRef = task.issueRef ?? '';
  const parts = [`branch ${target.branch}`];
  try {
    const status = known ?? (await workspaces.status(target));
    // Nothing ahead of the base means HEAD is in it: the three-dot diff is empty.
    const diffstat = status.aheadOfBase > 0 ? await workspaces.diffstat(target) : NO_CHANGES;
    parts.push(diffstat);
    if (status.dirty) parts.push('uncommitted changes left in the worktree');
    if (status.aheadOfBase > 0 && !(await ledger.claimHolds(task.id))) {
      parts.push('not handed off: this worker lost its claim on the task, which may run elsewhere');
    } else if (status.aheadOfBase > 0) {
      transcript.note(`handing off ${target.branch} to server ${target.server.name}`);
      const handed = await forgeFor(target.server, ctx.forgeToken(target.server)).handOff(
        target,
        workspaces,
        {
          taskId: task.id,
          issueRef,
          issueNumber: issueNumberOf(issueRef),
          issueTitle,
          branch: target.branch,
          diffstat,
          answer: task.agent === 'command' ? null : answer,
        },
      );
      parts.push(handed.summary);
      if (handed.pullRequest !== null) {
        await ledger.setPullRequest(issueRef, handed.pullRequest, task.id);
        parts.push(handed.pullRequest.url);
      }
    }
  } catch (err) {
    parts.push(`hand-off failed: ${errorMessage(err)}`);
  }
  const summary = parts.join(' · ');
  transcript.note(`completed: ${summary}`);
  return summary;
}
