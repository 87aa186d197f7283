/** From what a user typed to the session it names: issue ref → server, workspace, branch. */
import { join } from 'node:path';
import type { Server } from './domain.js';
import { OperationError, UsageError, quote } from './errors.js';
import type { HomeContext } from './home-context.js';
import {
  findIssueRefInText,
  formatIssueRef,
  parseIssueRef,
  parseRepoSpec,
  workspaceKey,
  type IssueRef,
  type RefDefaults,
} from './issue-ref.js';
import type { NewSession } from './store/records.js';
import type { WorkspaceTarget } from './workspaces/workspaces.js';

export interface SessionTarget extends WorkspaceTarget {
  ref: IssueRef;
  /** Normalised `host/owner/repo#N`. */
  issueRef: string;
}

export function serverRefHost(server: Server): string {
  return server.host ?? server.name;
}

export async function defaultServer(ctx: HomeContext): Promise<Server | null> {
  const servers = await ctx.store.servers.list();
  const name = ctx.config.defaultServer;
  if (name !== undefined) {
    const named = servers.find((s) => s.name === name);
    if (named === undefined) {
      throw new UsageError(
        `KUGETSU_DEFAULT_SERVER=${quote(name)} names no configured server: see \`kugetsu server list\``,
      );
    }
    return named;
  }
  return servers.find((s) => s.isDefault) ?? null;
}

export async function refDefaults(ctx: HomeContext): Promise<RefDefaults> {
  const server = await defaultServer(ctx);
  const defaultHost = server === null ? undefined : serverRefHost(server);
  const spec = ctx.config.defaultRepo;
  return {
    defaultHost,
    defaultRepo: spec === undefined ? undefined : parseRepoSpec(spec, defaultHost),
  };
}

export async function serverForRef(ctx: HomeContext, ref: IssueRef): Promise<Server> {
  const server = (await ctx.store.servers.list()).find((s) => serverRefHost(s) === ref.host);
  if (server === undefined) {
    throw new UsageError(
      `no server for host ${quote(ref.host)}: add one with \`kugetsu server add NAME URL\``,
    );
  }
  return server;
}

export async function targetFor(ctx: HomeContext, ref: IssueRef): Promise<SessionTarget> {
  const server = await serverForRef(ctx, ref);
  const key = workspaceKey(ref);
  return {
    ref,
    issueRef: formatIssueRef(ref),
    server,
    repoPath: `${ref.owner}/${ref.repo}`,
    workspaceKey: key,
    worktreePath: join(ctx.paths.worktreesDir, key),
    branch: `kugetsu/${key}`,
  };
}

export async function resolveTarget(ctx: HomeContext, input: string): Promise<SessionTarget> {
  return targetFor(ctx, parseIssueRef(input, await refDefaults(ctx)));
}

/** The issue a free-form message names, if any (for `delegate`). */
export async function targetInText(ctx: HomeContext, text: string): Promise<SessionTarget | null> {
  const found = findIssueRefInText(text, await refDefaults(ctx));
  return found === null ? null : targetFor(ctx, found.ref);
}

/** The stored session's target; its server must still exist. */
export async function targetOfSession(
  ctx: HomeContext,
  session: {
    issueRef: string;
    serverName: string;
    repoPath: string;
    workspaceKey: string;
    worktreePath: string;
    branch: string;
  },
): Promise<WorkspaceTarget> {
  const server = await ctx.store.servers.get(session.serverName);
  if (server === null) {
    throw new OperationError(
      `server ${session.serverName} of session ${session.issueRef} no longer exists: add it again`,
    );
  }
  return {
    server,
    repoPath: session.repoPath,
    workspaceKey: session.workspaceKey,
    // Each worker of a fleet keeps its worktrees under its own home: the path recorded is the
    // one of the machine that made the session.
    worktreePath:
      ctx.fleet === null
        ? session.worktreePath
        : join(ctx.paths.worktreesDir, session.workspaceKey),
    branch: session.branch,
  };
}

export function newSessionFor(target: SessionTarget, agent: NewSession['agent']): NewSession {
  return {
    issueRef: target.issueRef,
    workspaceKey: target.workspaceKey,
    serverName: target.server.name,
    repoPath: target.repoPath,
    worktreePath: target.worktreePath,
    branch: target.branch,
    agent,
  };
}
