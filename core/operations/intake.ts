/**
 * Intake from the forge (off unless a repository is watched): open issues carrying a label are
 * queued, and a new comment that mentions kugetsu continues that issue's session. Polled with
 * conditional requests, so an idle repository costs a 304 per poll.
 */
import { wakeDaemon } from '../wake-channel.js';
import type { Task } from '../domain.js';
import { OperationError, UsageError, errorMessage, quote } from '../errors.js';
import { forgeApiFor } from '../forges/forge-client.js';
import { splitRepoPath } from '../forges/forge.js';
import { nextCommentsSince, planIntake } from '../forges/intake-plan.js';
import type { HomeContext } from '../home-context.js';
import { issueNumberOf, parseIssueRef } from '../issue-ref.js';
import { effectiveMode } from '../session-rules.js';
import type { IntakeRepo } from '../store/intake-rows.js';
import { refDefaults, serverRefHost, targetFor } from '../targets.js';
import { taskFor } from './tasks.js';

const LABEL = /^[^\0\r\n,]{1,100}$/;
const MENTION = /^@?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface IntakeOptions {
  label?: string | undefined;
  mention?: string | undefined;
}

/** `host/owner/repo` or `owner/repo` → the watched repository's server and path. */
async function resolveRepo(
  ctx: HomeContext,
  spec: string,
): Promise<{ serverName: string; repoPath: string }> {
  const defaults = await refDefaults(ctx);
  let ref;
  try {
    ref = parseIssueRef(`${spec.trim()}#1`, defaults);
  } catch {
    throw new UsageError(
      `invalid repository ${quote(spec)}: expected host/owner/repo or owner/repo`,
    );
  }
  const target = await targetFor(ctx, ref);
  if (target.server.kind === 'git') {
    throw new UsageError(
      `server ${target.server.name} is plain git: intake needs a forge (gitea, github or gitlab)`,
    );
  }
  return { serverName: target.server.name, repoPath: target.repoPath };
}

export async function addIntake(
  ctx: HomeContext,
  spec: string,
  options: IntakeOptions,
): Promise<IntakeRepo> {
  const label = options.label ?? 'kugetsu';
  if (!LABEL.test(label)) throw new UsageError(`invalid --label ${quote(label)}`);
  const raw = options.mention ?? '@kugetsu';
  if (!MENTION.test(raw)) {
    throw new UsageError(`invalid --mention ${quote(raw)}: expected @name`);
  }
  const mention = raw.startsWith('@') ? raw : `@${raw}`;
  return ctx.store.intake.upsert({ ...(await resolveRepo(ctx, spec)), label, mention });
}

export async function removeIntake(ctx: HomeContext, spec: string): Promise<void> {
  const { serverName, repoPath } = await resolveRepo(ctx, spec);
  if (!(await ctx.store.intake.remove(serverName, repoPath))) {
    throw new OperationError(
      `${repoPath} on ${serverName} is not watched: see \`kugetsu intake list\``,
    );
  }
}

export interface IntakePoll {
  repo: string;
  queued: Task[];
  /** Set when the forge could not be polled; the next poll tries again. */
  error: string | null;
}

/** Polls every watched repository once. Never throws: a forge's failure is reported per repo. */
export async function pollIntake(ctx: HomeContext): Promise<IntakePoll[]> {
  const polls: IntakePoll[] = [];
  for (const watched of await ctx.store.intake.list()) {
    const name = `${watched.serverName}/${watched.repoPath}`;
    try {
      polls.push({ repo: name, queued: await pollRepo(ctx, watched), error: null });
    } catch (err) {
      polls.push({ repo: name, queued: [], error: errorMessage(err) });
    }
  }
  if (polls.some((p) => p.queued.length > 0)) await wakeDaemon(ctx.paths.daemonSocket);
  return polls;
}

async function pollRepo(ctx: HomeContext, watched: IntakeRepo): Promise<Task[]> {
  const server = await ctx.store.servers.get(watched.serverName);
  if (server === null) throw new OperationError(`server ${watched.serverName} no longer exists`);
  const api = forgeApiFor(server, ctx.forgeToken(server));
  const { owner, repo } = splitRepoPath(watched.repoPath);
  const issues = await api.openIssuesWithLabel(owner, repo, watched.label, {
    etag: watched.issuesEtag,
    lastModified: watched.issuesLastModified,
  });
  const comments = await api.repoCommentsSince(owner, repo, watched.commentsSince, {
    etag: watched.commentsEtag,
    lastModified: watched.commentsLastModified,
  });
  const host = serverRefHost(server);
  const withSession = new Set<number>();
  for (const session of await ctx.store.sessions.list({ all: true })) {
    if (session.serverName !== server.name || session.repoPath !== watched.repoPath) continue;
    withSession.add(issueNumberOf(session.issueRef));
  }
  const actions = planIntake({
    scope: `${server.name}/${watched.repoPath}`,
    label: watched.label,
    mention: watched.mention,
    issues: issues.notModified ? null : issues.items,
    comments: comments.notModified ? null : comments.items,
    commentsSince: watched.commentsSince,
    withSession,
  });
  const queued: Task[] = [];
  for (const action of actions) {
    const target = await targetFor(ctx, { host, owner, repo, number: action.issueNumber });
    // The mode read here may be stale by the write; the runner settles it again at start.
    const mode = effectiveMode('start', await ctx.store.sessions.get(target.issueRef));
    const planned = await taskFor(ctx, target, mode, action.message, {});
    const task = await ctx.store.tasks.enqueueOnce(action.key, planned.task, planned.session);
    if (task !== null) queued.push(task);
  }
  await ctx.store.intake.saveCursor(watched.serverName, watched.repoPath, {
    issuesEtag: issues.etag ?? watched.issuesEtag,
    issuesLastModified: issues.lastModified ?? watched.issuesLastModified,
    commentsEtag: comments.etag ?? watched.commentsEtag,
    commentsLastModified: comments.lastModified ?? watched.commentsLastModified,
    commentsSince: nextCommentsSince(
      watched.commentsSince,
      comments.notModified ? null : comments.items,
    ),
  });
  return queued;
}
