/** Sessions: destroying and pruning worktrees, and the forge state of merged ones. */
import { setTimeout as delay } from 'node:timers/promises';
import { agentSessionMeta } from '../agent-sessions.js';
import { wakeDaemon } from '../wake-channel.js';
import type { Session } from '../domain.js';
import { OperationError, errorMessage } from '../errors.js';
import { forgeFor, type ForgeState } from '../forges/forge.js';
import type { HomeContext } from '../home-context.js';
import { issueNumberOf } from '../issue-ref.js';
import { loadWorkflow } from '../runner/issue-prompt.js';
import { resolveTarget, targetOfSession } from '../targets.js';
import { runHook } from '../workflow/hooks.js';
import type { WorkspaceTarget } from '../workspaces/workspaces.js';

export async function getSession(ctx: HomeContext, refInput: string): Promise<Session> {
  const target = await resolveTarget(ctx, refInput);
  const session = await ctx.store.sessions.get(target.issueRef);
  if (session === null) throw new OperationError(`session ${target.issueRef} not found`);
  return session;
}

const STOP_WAIT_MS = 60_000;

/**
 * Removes a session's worktree, branch and record. Refuses uncommitted work and a running
 * agent unless forced; forced, a running agent is stopped first and waited for.
 */
export async function destroySession(
  ctx: HomeContext,
  refInput: string,
  force: boolean,
  /** Starts a daemon if none runs: only a daemon can stop the running agent. */
  ensureDaemon: () => Promise<unknown>,
): Promise<Session> {
  const session = await getSession(ctx, refInput);
  const target = await targetOfSession(ctx, session);
  if (session.state === 'used') {
    if (!force)
      throw new OperationError(
        `session ${session.issueRef} is in use: stop it first, or pass --force`,
      );
    const running = await ctx.store.tasks.list({ states: ['running'], issueRef: session.issueRef });
    for (const task of running) await ctx.store.tasks.cancel(task.id);
    await wakeDaemon(ctx.paths.daemonSocket);
    await ensureDaemon();
    const deadline = Date.now() + STOP_WAIT_MS;
    while ((await ctx.store.sessions.get(session.issueRef))?.state === 'used') {
      if (Date.now() > deadline)
        throw new OperationError(
          `session ${session.issueRef} did not stop within ${STOP_WAIT_MS / 1000}s`,
        );
      await delay(100);
    }
  }
  const status = await ctx.workspaces.status(target);
  if (status.dirty && !force) {
    throw new OperationError(
      `session ${session.issueRef} has uncommitted work in ${session.worktreePath}: commit it, or pass --force`,
    );
  }
  if (!force && session.pullRequest !== null) {
    const { pullRequest } = await refreshForgeState(ctx, session, 'strict');
    if (pullRequest?.state === 'open') {
      throw new OperationError(
        `session ${session.issueRef} has an open pull request (${pullRequest.url}): merge or close it, or pass --force`,
      );
    }
  }
  await beforeRemove(ctx, session, target);
  await forgetSession(ctx, session);
  await ctx.workspaces.remove(target);
  return session;
}

export interface PruneReport {
  pruned: string[];
  kept: { issueRef: string; reason: string }[];
}

/**
 * Removes idle sessions whose work is safe elsewhere: a clean worktree whose branch the
 * remote has (or no new commits at all). `force` removes every idle or left session.
 */
export async function pruneSessions(
  ctx: HomeContext,
  force: boolean,
  /** `dryRun`: decide and report, remove nothing. */
  options: { dryRun?: boolean } = {},
): Promise<PruneReport> {
  const report: PruneReport = { pruned: [], kept: [] };
  for (const session of await ctx.store.sessions.list({ all: true })) {
    const keep = (reason: string): void =>
      void report.kept.push({ issueRef: session.issueRef, reason });
    if (session.state === 'used') {
      keep('in use');
      continue;
    }
    const pending = await ctx.store.tasks.list({ states: ['pending'], issueRef: session.issueRef });
    if (pending.length > 0) {
      keep('has queued work');
      continue;
    }
    try {
      const target = await targetOfSession(ctx, session);
      if (!force) {
        if (session.state === 'left') {
          keep('interrupted: resume or destroy it');
          continue;
        }
        const status = await ctx.workspaces.status(target);
        if (status.dirty) {
          keep('uncommitted work');
          continue;
        }
        if (target.server.kind !== 'git') {
          const state = await refreshForgeState(ctx, session, 'strict');
          const done =
            state.issueState === 'closed' ||
            (state.pullRequest !== null && state.pullRequest.state !== 'open');
          if (!done) {
            keep(
              state.pullRequest === null
                ? 'issue open, no pull request yet'
                : `pull request #${state.pullRequest.number} open`,
            );
            continue;
          }
        } else if (status.aheadOfBase > 0 && !(await ctx.workspaces.isPushed(target))) {
          keep('unpushed commits');
          continue;
        }
      }
      if (options.dryRun !== true) {
        await beforeRemove(ctx, session, target);
        await forgetSession(ctx, session);
        await ctx.workspaces.remove(target);
      }
      report.pruned.push(session.issueRef);
    } catch (err) {
      keep(errorMessage(err));
    }
  }
  return report;
}

/**
 * Asks the session's forge for its pull request's and issue's state now, and stores both.
 * `strict` throws when the forge cannot answer; `lenient` falls back to what was last seen.
 */
export async function refreshForgeState(
  ctx: HomeContext,
  session: Session,
  mode: 'strict' | 'lenient',
): Promise<ForgeState> {
  const server = await ctx.store.servers.get(session.serverName);
  const known = { pullRequest: session.pullRequest, issueState: session.issueState };
  if (server === null || server.kind === 'git') return known;
  try {
    const number = issueNumberOf(session.issueRef);
    const state = await forgeFor(server, ctx.forgeToken(server)).currentState(
      session.repoPath,
      number,
      session.pullRequest,
    );
    if (state.pullRequest !== null)
      await ctx.store.sessions.setPullRequest(session.issueRef, state.pullRequest);
    if (state.issueState !== null)
      await ctx.store.sessions.setIssueState(session.issueRef, state.issueState);
    return state;
  } catch (err) {
    if (mode === 'strict') throw err;
    return known;
  }
}

/**
 * The repository's `before_remove` hook, in the worktree about to go. Its failure is logged
 * in the daemon log's stead (there is no run) and never blocks the removal (Symphony's rule).
 */
async function beforeRemove(
  ctx: HomeContext,
  session: Session,
  target: WorkspaceTarget,
): Promise<void> {
  if (!ctx.workspaces.isWorktree(target.worktreePath)) return;
  const workflow = await loadWorkflow(ctx.workspaces, target).catch(() => null);
  const script = workflow?.hooks.scripts.before_remove;
  if (workflow === null || script === undefined) return;
  const withheld = new Set(ctx.withheldKeys());
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(ctx.env))
    if (value !== undefined && !withheld.has(key)) env[key] = value;
  Object.assign(env, {
    KUGETSU_ISSUE_REF: session.issueRef,
    KUGETSU_WORKTREE: target.worktreePath,
    KUGETSU_BRANCH: target.branch,
  });
  await runHook('before_remove', script, {
    cwd: target.worktreePath,
    env,
    timeoutMs: workflow.hooks.timeoutMs,
    killGraceMs: ctx.config.killGraceMs,
    onLine: () => undefined,
  });
}

/** Deletes the session's record and what kugetsu kept about its agent session. */
async function forgetSession(ctx: HomeContext, session: Session): Promise<void> {
  await ctx.store.sessions.delete(session.issueRef);
  if (session.agentSessionId !== null)
    await agentSessionMeta(ctx.store.meta).deleteTotals(session.agent, session.agentSessionId);
}
