/** An issue's title as its forge has it, for naming things after the issue (a chat topic). */
import { forgeApiFor } from '../forges/forge-client.js';
import { splitRepoPath } from '../forges/forge.js';
import type { HomeContext } from '../home-context.js';
import { issueNumberOf } from '../issue-ref.js';

/** Quick: a name can do without the title. */
const TITLE_TIMEOUT_MS = 5_000;

/** The title, or null when the session's server has no issues (git) or does not answer. */
export async function issueTitle(ctx: HomeContext, issueRef: string): Promise<string | null> {
  const session = await ctx.store.sessions.get(issueRef);
  const server = session === null ? null : await ctx.store.servers.get(session.serverName);
  if (session === null || server === null || server.kind === 'git') return null;
  try {
    const { owner, repo } = splitRepoPath(session.repoPath);
    const api = forgeApiFor(server, ctx.forgeToken(server), { timeoutMs: TITLE_TIMEOUT_MS });
    return (await api.issue(owner, repo, issueNumberOf(issueRef))).title;
  } catch {
    return null;
  }
}
