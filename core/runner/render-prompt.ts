/**
 * What the agent is told: for a new session on a forge issue, the issue's text through the
 * repository's template (read from the forge); then kugetsu's instructions around it (pure).
 */
import { attachmentNote, type PlacedAttachment } from '../attachments.js';
import { devPrompt, pmPrompt } from '../agents/instructions.js';
import type { Task } from '../domain.js';
import { forgeFor } from '../forges/forge.js';
import { issueNumberOf } from '../issue-ref.js';
import { promptVariables } from './issue-prompt.js';
import type { AttemptStart, IssuePrompt, StepDeps, Workspace } from './run-steps.js';

/**
 * The first prompt of a session on a forge issue, or null: the session continues, the server
 * has no issues (`git`), or the issue is gone. A refused token, a missing issue or a broken
 * template are permanent errors.
 */
export async function renderIssuePrompt(
  { ctx }: StepDeps,
  { task, mode, transcript }: AttemptStart,
  { session, target, workflow }: Workspace,
): Promise<IssuePrompt | null> {
  if (session === null || target === null) return null;
  if (mode !== 'start' && session.agentSessionId !== null) return null;
  if (target.server.kind === 'git' || task.issueRef === null) return null;
  const issue = await forgeFor(target.server, ctx.forgeToken(target.server)).issueContext(
    target.repoPath,
    issueNumberOf(task.issueRef),
  );
  if (issue === null) return null;
  transcript.note(
    `read issue #${issue.number} (${issue.state}, ${issue.comments.length} comment(s)) from ${target.server.name}`,
  );
  const vars = promptVariables({
    issueRef: task.issueRef,
    issue,
    message: task.message,
    branch: target.branch,
    repoPath: target.repoPath,
    defaultBranch: await ctx.workspaces.baseBranch(target),
    attempt: task.attempts,
  });
  // liquidjs loads only once a forge issue's prompt is rendered.
  const { renderPrompt } = await import('../workflow/prompt.js');
  return { prompt: renderPrompt(workflow, vars), title: issue.title };
}

/** The prompt the agent gets: kugetsu's instructions when its backend takes them. */
export function agentPrompt(input: {
  task: Task;
  /** The issue's text and the user's message, for a new session on a forge; else the message. */
  issuePrompt: string | null;
  attachments: readonly PlacedAttachment[];
  instructed: boolean;
  newSession: boolean;
  branch: string;
  forked: boolean;
}): string {
  const { task } = input;
  const message = (input.issuePrompt ?? task.message) + attachmentNote(input.attachments);
  if (!input.instructed) return message;
  if (task.kind === 'pm') return pmPrompt({ message, newSession: input.newSession });
  return devPrompt({
    message,
    issueRef: task.issueRef ?? '',
    branch: input.branch,
    newSession: input.newSession,
    forked: input.forked,
  });
}
