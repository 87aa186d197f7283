/** Gitea and Forgejo behind {@link ForgeApi}, over the REST API at `/api/v1`. */
import type { ForgeApi, ForgeComment, ForgeIssue, ForgePullRequest } from './forge-api.js';
import { encodePath, type ForgeHttp } from './forge-http.js';
import { byCreation, issueNumberFromUrl } from './github.js';

// Wire shapes: only the fields kugetsu reads.
export interface GiteaIssue {
  number: number;
  title: string;
  body: string;
  state: string;
  labels: { name: string }[] | null;
  html_url: string;
  user: { login: string } | null;
  updated_at: string;
}
export interface GiteaComment {
  id: number;
  html_url: string;
  /** Empty for a comment on a pull request, whose number is in `pull_request_url`. */
  issue_url: string;
  pull_request_url?: string;
  user: { login: string } | null;
  body: string;
  created_at: string;
}
export interface GiteaPull {
  number: number;
  state: string;
  merged: boolean;
  html_url: string;
  title: string;
  body: string;
  head: { ref: string };
  base: { ref: string };
}

/** Gitea caps `limit` at its MAX_RESPONSE_ITEMS, 50 by default. */
const PAGE_LIMIT = 50;

export function giteaAuthHeaders(token: string | null): Record<string, string> {
  return token ? { Authorization: `token ${token}` } : {};
}

export function mapGiteaIssue(issue: GiteaIssue): ForgeIssue {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? '',
    state: issue.state === 'closed' ? 'closed' : 'open',
    labels: (issue.labels ?? []).map((label) => label.name),
    url: issue.html_url,
    author: issue.user?.login ?? '',
    updatedAt: Date.parse(issue.updated_at),
  };
}

export function mapGiteaComment(comment: GiteaComment): ForgeComment {
  return {
    id: comment.id,
    issueNumber: issueNumberFromUrl(comment.issue_url || (comment.pull_request_url ?? '')),
    author: comment.user?.login ?? '',
    body: comment.body ?? '',
    createdAt: Date.parse(comment.created_at),
    url: comment.html_url,
  };
}

export function mapGiteaPull(pull: GiteaPull): ForgePullRequest {
  return {
    number: pull.number,
    state: pull.merged ? 'merged' : pull.state === 'closed' ? 'closed' : 'open',
    url: pull.html_url,
    title: pull.title,
    body: pull.body ?? '',
    head: pull.head.ref,
    base: pull.base.ref,
  };
}

export function giteaApi(http: ForgeHttp): ForgeApi {
  const repoPath = (owner: string, repo: string, ...rest: (string | number)[]): string =>
    encodePath('repos', owner, repo, ...rest);
  return {
    async whoami() {
      // Gitea's scoped tokens do not report their scopes on any endpoint.
      const user = await http.get<{ login: string }>('/user');
      return { login: user.login, scopes: null };
    },
    async repo(owner, repo) {
      const data = await http.get<{ default_branch: string; html_url: string }>(
        repoPath(owner, repo),
      );
      return { defaultBranch: data.default_branch, url: data.html_url };
    },
    async issue(owner, repo, number) {
      return mapGiteaIssue(await http.get<GiteaIssue>(repoPath(owner, repo, 'issues', number)));
    },
    async issueComments(owner, repo, number) {
      // Gitea answers this endpoint unpaginated; `all` still follows a Link if one appears.
      const items = await http.all<GiteaComment>(
        repoPath(owner, repo, 'issues', number, 'comments'),
      );
      return items.map(mapGiteaComment).sort(byCreation);
    },
    async createIssueComment(owner, repo, number, body) {
      const data = await http.post<GiteaComment>(
        repoPath(owner, repo, 'issues', number, 'comments'),
        { body },
      );
      return mapGiteaComment(data);
    },
    async findPullRequest(owner, repo, head) {
      // No head filter on Gitea's list: read them all and match the source branch.
      const items = await http.all<GiteaPull>(repoPath(owner, repo, 'pulls'), {
        state: 'all',
        limit: PAGE_LIMIT,
      });
      const newest = items
        .filter((pull) => pull.head.ref === head)
        .sort((a, b) => b.number - a.number)[0];
      return newest ? mapGiteaPull(newest) : null;
    },
    async pullRequest(owner, repo, number) {
      return mapGiteaPull(await http.get<GiteaPull>(repoPath(owner, repo, 'pulls', number)));
    },
    async createPullRequest(owner, repo, pr) {
      const data = await http.post<GiteaPull>(repoPath(owner, repo, 'pulls'), {
        head: pr.head,
        base: pr.base,
        title: pr.title,
        body: pr.body,
      });
      return mapGiteaPull(data);
    },
    async updatePullRequest(owner, repo, number, change) {
      // Gitea answers 201 here, not 200.
      const data = await http.patch<GiteaPull>(repoPath(owner, repo, 'pulls', number), change);
      return mapGiteaPull(data);
    },
    async mergePullRequest(owner, repo, number) {
      // `Do` is required; Gitea answers an accepted merge with 200 and no body.
      await http.post(repoPath(owner, repo, 'pulls', number, 'merge'), { Do: 'merge' });
    },
    async openIssuesWithLabel(owner, repo, label, since) {
      const result = await http.allConditional<GiteaIssue>(
        repoPath(owner, repo, 'issues'),
        { labels: label, state: 'open', type: 'issues', limit: PAGE_LIMIT },
        since,
      );
      if (result.notModified) return result;
      return { ...result, items: result.items.map(mapGiteaIssue) };
    },
    async repoCommentsSince(owner, repo, sinceMs, since) {
      const result = await http.allConditional<GiteaComment>(
        repoPath(owner, repo, 'issues', 'comments'),
        { since: new Date(sinceMs).toISOString(), limit: PAGE_LIMIT },
        since,
      );
      if (result.notModified) return result;
      return { ...result, items: result.items.map(mapGiteaComment).sort(byCreation) };
    },
  };
}
