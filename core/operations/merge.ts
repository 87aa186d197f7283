/** Merging a session's pull request on its forge: what `kugetsu merge` and the Merge button do. */
import type { Server, Session, SessionPullRequest } from '../domain.js';
import { OperationError } from '../errors.js';
import { forgeFor } from '../forges/forge.js';
import { ForgeError } from '../forges/forge-errors.js';
import type { HomeContext } from '../home-context.js';
import { getSession, refreshForgeState } from './sessions.js';

/**
 * Statuses with which forges refuse a merge they understood: Gitea 405/409, GitHub 405/409
 * (and 422 for a bad option), GitLab 405/406/409.
 */
const REFUSALS = new Set([405, 406, 409, 422]);

export interface MergeOutcome {
  issueRef: string;
  pullRequest: SessionPullRequest;
  /** The forge already had it merged: nothing was done. */
  already: boolean;
}

/** The session and its pull request, as long as a merge can be asked for. Stored facts only. */
export async function mergeCandidate(
  ctx: HomeContext,
  refInput: string,
): Promise<{ session: Session; server: Server; pullRequest: SessionPullRequest }> {
  const session = await getSession(ctx, refInput);
  const server = await ctx.store.servers.get(session.serverName);
  if (server === null || server.kind === 'git') {
    throw new OperationError(
      `session ${session.issueRef} is on a plain git server: it has no pull request to merge`,
    );
  }
  if (session.pullRequest === null) {
    throw new OperationError(`session ${session.issueRef} has no pull request yet`);
  }
  if (session.state === 'used') {
    throw new OperationError(
      `session ${session.issueRef} is in use: wait for its task to end, or stop it`,
    );
  }
  return { session, server, pullRequest: session.pullRequest };
}

/**
 * Merges the session's pull request through its forge's merge API and records it `merged`.
 * The forge is asked first, so a merge done elsewhere is reported, not repeated; a refusal is
 * one line with the forge's own reason ("pull request #15 cannot be merged: 405 Pull Request is
 * not mergeable").
 */
export async function mergeSession(ctx: HomeContext, refInput: string): Promise<MergeOutcome> {
  const { session, server, pullRequest: known } = await mergeCandidate(ctx, refInput);
  const issueRef = session.issueRef;
  const pullRequest = (await refreshForgeState(ctx, session, 'strict')).pullRequest ?? known;
  if (pullRequest.state === 'merged') return { issueRef, pullRequest, already: true };
  if (pullRequest.state === 'closed') {
    throw new OperationError(
      `pull request #${pullRequest.number} of ${issueRef} is closed: reopen it on the forge first`,
    );
  }
  let after: SessionPullRequest;
  try {
    after = await forgeFor(server, ctx.forgeToken(server)).mergePullRequest(
      session.repoPath,
      pullRequest,
    );
  } catch (err) {
    if (err instanceof ForgeError && err.status !== null && REFUSALS.has(err.status)) {
      throw new OperationError(
        `pull request #${pullRequest.number} cannot be merged: ${ctx.scrubber().scrub(err.reason)}`,
      );
    }
    throw err;
  }
  await ctx.store.sessions.setPullRequest(issueRef, after);
  return { issueRef, pullRequest: after, already: false };
}
