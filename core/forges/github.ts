/** GitHub (github.com and Enterprise Server) behind {@link ForgeApi}, over the REST API v3. */
import type {
  ForgeApi,
  ForgeComment,
  ForgeIssue,
  ForgePullRequest,
  PullRequestState,
} from './forge-api.js';
import { encodePath, type ForgeHttp } from './forge-http.js';

// Wire shapes: only the fields kugetsu reads.
export interface GitHubUser {
  login: string;
}
export interface GitHubIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  labels: (string | { name?: string })[];
  html_url: string;
  user: GitHubUser | null;
  updated_at: string;
  pull_request?: unknown;
}
export interface GitHubComment {
  id: number;
  issue_url: string;
  user: GitHubUser | null;
  body?: string;
  created_at: string;
  html_url: string;
}
export interface GitHubPull {
  number: number;
  state: string;
  merged?: boolean;
  merged_at: string | null;
  html_url: string;
  title: string;
  body: string | null;
  head: { ref: string };
  base: { ref: string };
}

/** The headers GitHub asks every client to send (besides auth). */
export const GITHUB_HEADERS = {
  Accept: 'application/vnd.github+json',
  'X-GitHub-Api-Version': '2022-11-28',
};

export function githubAuthHeaders(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function mapGitHubIssue(issue: GitHubIssue): ForgeIssue {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    state: issue.state === 'closed' ? 'closed' : 'open',
    labels: issue.labels
      .map((label) => (typeof label === 'string' ? label : (label.name ?? '')))
      .filter((name) => name !== ''),
    url: issue.html_url,
    author: issue.user?.login ?? '',
    updatedAt: Date.parse(issue.updated_at),
  };
}

/** The issue number is the last segment of `issue_url` (`…/repos/o/r/issues/14`). */
export function issueNumberFromUrl(url: string): number {
  const last = url.replace(/\/+$/, '').split('/').pop() ?? '';
  return /^\d+$/.test(last) ? Number(last) : 0;
}

export function mapGitHubComment(comment: GitHubComment): ForgeComment {
  return {
    id: comment.id,
    issueNumber: issueNumberFromUrl(comment.issue_url),
    author: comment.user?.login ?? '',
    body: comment.body ?? '',
    createdAt: Date.parse(comment.created_at),
    url: comment.html_url,
  };
}

export function mapGitHubPull(pull: GitHubPull): ForgePullRequest {
  // `merged` is absent from list items; `merged_at` is on both.
  const state: PullRequestState =
    pull.merged_at !== null || pull.merged === true
      ? 'merged'
      : pull.state === 'closed'
        ? 'closed'
        : 'open';
  return {
    number: pull.number,
    state,
    url: pull.html_url,
    title: pull.title,
    body: pull.body ?? '',
    head: pull.head.ref,
    base: pull.base.ref,
  };
}

/** Oldest first, as the interface promises, whatever order a page came in. */
export function byCreation(a: ForgeComment, b: ForgeComment): number {
  return a.createdAt - b.createdAt || a.id - b.id;
}

export function githubApi(http: ForgeHttp): ForgeApi {
  const repoPath = (owner: string, repo: string, ...rest: (string | number)[]): string =>
    encodePath('repos', owner, repo, ...rest);
  return {
    async whoami() {
      const response = await http.raw<GitHubUser>('/user');
      // Classic tokens list their scopes here; fine-grained tokens and apps send no header.
      const header = response.headers.get('x-oauth-scopes');
      const scopes =
        header === null
          ? null
          : header
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
      return { login: response.data.login, scopes };
    },
    async repo(owner, repo) {
      const data = await http.get<{ default_branch: string; html_url: string }>(
        repoPath(owner, repo),
      );
      return { defaultBranch: data.default_branch, url: data.html_url };
    },
    async issue(owner, repo, number) {
      return mapGitHubIssue(await http.get<GitHubIssue>(repoPath(owner, repo, 'issues', number)));
    },
    async issueComments(owner, repo, number) {
      const items = await http.all<GitHubComment>(
        repoPath(owner, repo, 'issues', number, 'comments'),
        {
          per_page: 100,
        },
      );
      return items.map(mapGitHubComment).sort(byCreation);
    },
    async createIssueComment(owner, repo, number, body) {
      const data = await http.post<GitHubComment>(
        repoPath(owner, repo, 'issues', number, 'comments'),
        { body },
      );
      return mapGitHubComment(data);
    },
    async findPullRequest(owner, repo, head) {
      const items = await http.all<GitHubPull>(repoPath(owner, repo, 'pulls'), {
        head: `${owner}:${head}`,
        state: 'all',
        per_page: 100,
      });
      const newest = items
        .filter((pull) => pull.head.ref === head)
        .sort((a, b) => b.number - a.number)[0];
      return newest ? mapGitHubPull(newest) : null;
    },
    async pullRequest(owner, repo, number) {
      return mapGitHubPull(await http.get<GitHubPull>(repoPath(owner, repo, 'pulls', number)));
    },
    async createPullRequest(owner, repo, pr) {
      const data = await http.post<GitHubPull>(repoPath(owner, repo, 'pulls'), {
        head: pr.head,
        base: pr.base,
        title: pr.title,
        body: pr.body,
      });
      return mapGitHubPull(data);
    },
    async updatePullRequest(owner, repo, number, change) {
      const data = await http.patch<GitHubPull>(repoPath(owner, repo, 'pulls', number), change);
      return mapGitHubPull(data);
    },
    async mergePullRequest(owner, repo, number) {
      await http.put(repoPath(owner, repo, 'pulls', number, 'merge'), { merge_method: 'merge' });
    },
    async openIssuesWithLabel(owner, repo, label, since) {
      const result = await http.allConditional<GitHubIssue>(
        repoPath(owner, repo, 'issues'),
        { labels: label, state: 'open', per_page: 100 },
        since,
      );
      if (result.notModified) return result;
      // GitHub lists pull requests as issues; they carry a `pull_request` key.
      const items = result.items.filter((i) => i.pull_request === undefined).map(mapGitHubIssue);
      return { ...result, items };
    },
    async repoCommentsSince(owner, repo, sinceMs, since) {
      const result = await http.allConditional<GitHubComment>(
        repoPath(owner, repo, 'issues', 'comments'),
        {
          since: new Date(sinceMs).toISOString(),
          sort: 'created',
          direction: 'asc',
          per_page: 100,
        },
        since,
      );
      if (result.notModified) return result;
      return { ...result, items: result.items.map(mapGitHubComment).sort(byCreation) };
    },
  };
}
