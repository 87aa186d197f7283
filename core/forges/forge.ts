/**
 * The seam to a code forge (DESIGN.md §3): the issue's text in, the branch, pull request and
 * issue comment out. `git` servers have no API: their branch is pushed and that is all.
 */
import type { Server, SessionPullRequest } from '../domain.js';
import { OperationError } from '../errors.js';
import type { WorkspaceTarget, Workspaces } from '../workspaces/workspaces.js';
import type {
  ForgeApi,
  ForgeComment,
  ForgeIssue,
  ForgeIssueState,
  ForgePullRequest,
} from './forge-api.js';
import { forgeApiFor } from './forge-client.js';
import { ForgeError } from './forge-errors.js';
import {
  commentMarker,
  issueCommentBody,
  pullRequestBody,
  pullRequestTitle,
  type HandOffFacts,
} from './hand-off-text.js';

/** The issue as the prompt needs it: its own fields and every comment, oldest first. */
export interface IssueContext extends Omit<ForgeIssue, 'updatedAt'> {
  comments: Pick<ForgeComment, 'author' | 'body' | 'createdAt'>[];
}

export interface HandOffResult {
  /** One line for the completion event: what happened to the branch. */
  summary: string;
  pullRequest: SessionPullRequest | null;
}

export interface ForgeState {
  pullRequest: SessionPullRequest | null;
  issueState: ForgeIssueState | null;
}

export interface Forge {
  /** The issue's own text for the prompt; null where the server has no issue API. */
  issueContext(repoPath: string, issueNumber: number): Promise<IssueContext | null>;
  /** After a successful run whose branch has commits the base does not. */
  handOff(
    target: WorkspaceTarget,
    workspaces: Workspaces,
    facts: HandOffFacts,
  ): Promise<HandOffResult>;
  /** The session's pull request and issue as the forge has them now. */
  currentState(
    repoPath: string,
    issueNumber: number,
    pullRequest: SessionPullRequest | null,
  ): Promise<ForgeState>;
  /**
   * Merges the session's pull request and returns it as the forge has it afterwards.
   * @throws ForgeError when the forge refuses (its status and reason kept).
   */
  mergePullRequest(repoPath: string, pullRequest: SessionPullRequest): Promise<SessionPullRequest>;
}

/** `owner/repo` → its parts; GitLab owners may hold subgroups (`group/sub/repo`). */
export function splitRepoPath(repoPath: string): { owner: string; repo: string } {
  const cut = repoPath.lastIndexOf('/');
  return { owner: repoPath.slice(0, cut), repo: repoPath.slice(cut + 1) };
}

export function forgeFor(server: Server, token: string | null): Forge {
  return server.kind === 'git' ? plainGit() : apiForge(forgeApiFor(server, token));
}

function plainGit(): Forge {
  return {
    issueContext: () => Promise.resolve(null),
    async handOff(target, workspaces) {
      await workspaces.pushBranch(target);
      return { summary: `pushed ${target.branch}`, pullRequest: null };
    },
    currentState: (_repo, _number, pullRequest) =>
      Promise.resolve({ pullRequest, issueState: null }),
    mergePullRequest: () =>
      Promise.reject(
        new OperationError('a plain git server has no pull requests: merge the branch with git'),
      ),
  };
}

function sessionPr(pr: ForgePullRequest): SessionPullRequest {
  return { number: pr.number, url: pr.url, state: pr.state };
}

function apiForge(api: ForgeApi): Forge {
  return {
    async issueContext(repoPath, issueNumber) {
      const { owner, repo } = splitRepoPath(repoPath);
      const [issue, comments] = await Promise.all([
        api.issue(owner, repo, issueNumber),
        api.issueComments(owner, repo, issueNumber),
      ]);
      return {
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: issue.state,
        labels: issue.labels,
        url: issue.url,
        author: issue.author,
        comments: comments.map((c) => ({ author: c.author, body: c.body, createdAt: c.createdAt })),
      };
    },

    /**
     * Push, then open or update the pull request, then comment on the issue. Every step looks
     * before it writes, so a crash anywhere in between repeats nothing when the attempt runs
     * again: the push is idempotent, an open PR for the branch is updated rather than opened
     * twice, and the comment carries the task's marker.
     */
    async handOff(target, workspaces, facts) {
      const { owner, repo } = splitRepoPath(target.repoPath);
      await workspaces.pushBranch(target);
      const base = await workspaces.baseBranch(target);
      const issueTitle =
        facts.issueTitle ?? (await api.issue(owner, repo, facts.issueNumber)).title;
      const text = { ...facts, issueTitle };
      const body = pullRequestBody(text);
      let verb = 'updated';
      let pr = await api.findPullRequest(owner, repo, target.branch);
      if (pr?.state === 'open') {
        pr = await api.updatePullRequest(owner, repo, pr.number, { title: pr.title, body });
      } else {
        try {
          pr = await api.createPullRequest(owner, repo, {
            head: target.branch,
            base,
            title: pullRequestTitle(text),
            body,
          });
          verb = 'opened';
        } catch (err) {
          // Someone (another kugetsu, a person) opened one between the look-up and ours.
          if (!(err instanceof ForgeError) || (err.status !== 422 && err.status !== 409)) throw err;
          const raced = await api.findPullRequest(owner, repo, target.branch);
          if (raced?.state !== 'open') throw err;
          pr = await api.updatePullRequest(owner, repo, raced.number, { title: raced.title, body });
        }
      }
      const marker = commentMarker(facts.taskId);
      const comments = await api.issueComments(owner, repo, facts.issueNumber);
      if (!comments.some((c) => c.body.includes(marker))) {
        await api.createIssueComment(
          owner,
          repo,
          facts.issueNumber,
          issueCommentBody(text, pr.url),
        );
      }
      return {
        summary: `pushed ${target.branch} · pull request #${pr.number} ${verb}`,
        pullRequest: sessionPr(pr),
      };
    },

    async currentState(repoPath, issueNumber, known) {
      const { owner, repo } = splitRepoPath(repoPath);
      const [issue, pr] = await Promise.all([
        api.issue(owner, repo, issueNumber),
        known === null ? Promise.resolve(null) : api.pullRequest(owner, repo, known.number),
      ]);
      return { issueState: issue.state, pullRequest: pr === null ? null : sessionPr(pr) };
    },

    async mergePullRequest(repoPath, pullRequest) {
      const { owner, repo } = splitRepoPath(repoPath);
      await api.mergePullRequest(owner, repo, pullRequest.number);
      // What the forge shows now, not what kugetsu assumes: a merge can be queued (GitLab).
      return sessionPr(await api.pullRequest(owner, repo, pullRequest.number));
    },
  };
}
