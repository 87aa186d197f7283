/**
 * What a dev run on a forge issue starts from: the repository's WORKFLOW.md (prompt template
 * and hooks) and the issue's text. Adapters over the forge and git; the template and the
 * variables' shape are pure (core/workflow).
 */
import type { IssueContext } from '../forges/forge.js';
import { isKugetsuText } from '../forges/hand-off-text.js';
import type { WorkspaceTarget, Workspaces } from '../workspaces/workspaces.js';
import type { PromptVariables } from '../workflow/prompt.js';
import type { Workflow } from '../workflow/workflow.js';
import { WORKFLOW_PATH } from '../workflow/workflow-path.js';

/** The repository's WORKFLOW.md as its default branch has it; null when it has none. */
export async function loadWorkflow(
  workspaces: Workspaces,
  target: WorkspaceTarget,
): Promise<Workflow | null> {
  const text = await workspaces.readDefaultBranchFile(target, WORKFLOW_PATH);
  if (text === null) return null;
  // The parser brings yaml, zod and liquidjs: a daemon whose repositories have no WORKFLOW.md
  // never loads them.
  const { parseWorkflow } = await import('../workflow/workflow.js');
  return parseWorkflow(text, WORKFLOW_PATH);
}

// A prompt travels in KUGETSU_MESSAGE too, and one environment string may hold 128 KiB: an
// issue with a novel for a body or hundreds of comments is cut, newest comments kept.
const MAX_BODY = 16_000;
const MAX_COMMENT = 4_000;
const MAX_COMMENTS = 30;

function cut(text: string, max: number): string {
  return text.length > max
    ? `${text.slice(0, max)}\n[… cut by kugetsu: ${text.length - max} more characters]`
    : text;
}

/** The template's variables for one run (pure). */
export function promptVariables(input: {
  issueRef: string;
  issue: IssueContext;
  message: string;
  branch: string;
  repoPath: string;
  defaultBranch: string;
  attempt: number;
}): PromptVariables {
  const { issue } = input;
  return {
    issue: {
      ref: input.issueRef,
      number: issue.number,
      title: issue.title,
      body: cut(issue.body, MAX_BODY),
      state: issue.state,
      labels: issue.labels,
      url: issue.url,
      author: issue.author,
      // kugetsu's own hand-off comments say what the worktree's commits already show.
      comments: issue.comments
        .filter((c) => !isKugetsuText(c.body))
        .slice(-MAX_COMMENTS)
        .map((c) => ({
          author: c.author,
          body: cut(c.body, MAX_COMMENT),
          created_at: new Date(c.createdAt).toISOString(),
        })),
    },
    message: input.message,
    branch: input.branch,
    repo: input.repoPath,
    default_branch: input.defaultBranch,
    attempt: input.attempt,
  };
}
