/**
 * Listing sessions: what `kugetsu list`, the bot's list and the API read. Kept apart from
 * destroying and pruning (sessions.ts), whose forge, workflow and hook imports a listing must
 * not pay for at start-up (docs/benchmarks.md).
 */
import { existsSync } from 'node:fs';
import type { Session, Usage } from '../domain.js';
import type { HomeContext } from '../home-context.js';
import type { SessionTask } from '../store/records.js';
import { serverRefHost } from '../targets.js';

export interface SessionView extends Session {
  /** The running or newest task of the session. */
  task: SessionTask | null;
  /** Tokens and cost of every run in the session. */
  usage: Usage | null;
  worktreeExists: boolean;
}

export async function listSessions(ctx: HomeContext, all: boolean): Promise<SessionView[]> {
  return (await ctx.store.sessions.listWithTask({ all })).map(({ session, task, usage }) => ({
    ...session,
    task,
    usage,
    worktreeExists: existsSync(session.worktreePath),
  }));
}

/** Repositories kugetsu has worked in (`host/owner/repo`), for choosing one from a phone. */
export async function knownRepos(ctx: HomeContext): Promise<string[]> {
  const servers = new Map((await ctx.store.servers.list()).map((s) => [s.name, serverRefHost(s)]));
  const repos = new Set<string>();
  for (const session of await ctx.store.sessions.list({ all: true })) {
    const host = servers.get(session.serverName);
    if (host !== undefined) repos.add(`${host}/${session.repoPath}`);
  }
  return [...repos].sort();
}
