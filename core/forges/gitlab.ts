/** GitLab (gitlab.com and self-managed) behind {@link ForgeApi}, over the REST API v4. */
import type { ForgeApi, ForgeComment, ForgeIssue, ForgePullRequest } from './forge-api.js';
import { encodePath, type ForgeHttp } from './forge-http.js';
import { byCreation } from './github.js';

// Wire shapes: only the fields kugetsu reads.
export interface GitLabIssue {
  iid: number;
  title: string;
  description: string | null;
  state: string;
  labels: string[];
  web_url: string;
  author: { username: string } | null;
  updated_at: string;
}
export interface GitLabNote {
  id: number;
  body: string;
  author: { username: string } | null;
  created_at: string;
  updated_at: string;
  system: boolean;
  noteable_iid: number | null;
}
export interface GitLabMergeRequest {
  iid: number;
  state: string;
  web_url: string;
  title: string;
  description: string | null;
  source_branch: string;
  target_branch: string;
}

export function gitlabAuthHeaders(token: string | null): Record<string, string> {
  return token ? { 'PRIVATE-TOKEN': token } : {};
}

export function mapGitLabIssue(issue: GitLabIssue): ForgeIssue {
  return {
    number: issue.iid,
    title: issue.title,
    body: issue.description ?? '',
    state: issue.state === 'closed' ? 'closed' : 'open',
    labels: issue.labels,
    url: issue.web_url,
    author: issue.author?.username ?? '',
    updatedAt: Date.parse(issue.updated_at),
  };
}

/** Notes carry no web URL; GitLab's own anchor is `<issue page>#note_<id>`. */
export function mapGitLabNote(
  note: GitLabNote,
  issueNumber: number,
  issueUrl: string,
): ForgeComment {
  return {
    id: note.id,
    issueNumber,
    author: note.author?.username ?? '',
    body: note.body,
    createdAt: Date.parse(note.created_at),
    url: `${issueUrl}#note_${note.id}`,
  };
}

export function mapGitLabMergeRequest(mr: GitLabMergeRequest): ForgePullRequest {
  // `locked` is a merge in progress: still open until GitLab says merged.
  const state = mr.state === 'merged' ? 'merged' : mr.state === 'closed' ? 'closed' : 'open';
  return {
    number: mr.iid,
    state,
    url: mr.web_url,
    title: mr.title,
    body: mr.description ?? '',
    head: mr.source_branch,
    base: mr.target_branch,
  };
}

/**
 * @param webUrl the server's web root (`https://gitlab.example.com`), for note links.
 */
export function gitlabApi(http: ForgeHttp, webUrl: string): ForgeApi {
  const web = webUrl.replace(/\/+$/, '');
  // One path segment for the whole `group/sub/project`: GitLab's URL-encoded project id.
  const project = (owner: string, repo: string, ...rest: (string | number)[]): string =>
    encodePath('projects', `${owner}/${repo}`, ...rest);
  const issuePage = (owner: string, repo: string, iid: number): string =>
    `${web}/${owner}/${repo}/-/issues/${iid}`;
  const notesOf = async (owner: string, repo: string, iid: number): Promise<GitLabNote[]> => {
    const notes = await http.all<GitLabNote>(project(owner, repo, 'issues', iid, 'notes'), {
      sort: 'asc',
      order_by: 'created_at',
      per_page: 100,
    });
    return notes.filter((note) => !note.system);
  };
  return {
    async whoami() {
      const user = await http.get<{ username: string }>('/user');
      let scopes: string[] | null = null;
      // Only personal/project/group access tokens can describe themselves (GitLab 16.0+).
      const self = await http.raw<{ scopes?: string[] }>(
        '/personal_access_tokens/self',
        {},
        [403, 404],
      );
      if (self.status < 300 && Array.isArray(self.data.scopes)) scopes = self.data.scopes;
      return { login: user.username, scopes };
    },
    async repo(owner, repo) {
      const data = await http.get<{ default_branch: string; web_url: string }>(
        project(owner, repo),
      );
      return { defaultBranch: data.default_branch, url: data.web_url };
    },
    async issue(owner, repo, number) {
      return mapGitLabIssue(await http.get<GitLabIssue>(project(owner, repo, 'issues', number)));
    },
    async issueComments(owner, repo, number) {
      const page = issuePage(owner, repo, number);
      const notes = await notesOf(owner, repo, number);
      return notes.map((note) => mapGitLabNote(note, number, page)).sort(byCreation);
    },
    async createIssueComment(owner, repo, number, body) {
      const note = await http.post<GitLabNote>(project(owner, repo, 'issues', number, 'notes'), {
        body,
      });
      return mapGitLabNote(note, number, issuePage(owner, repo, number));
    },
    async findPullRequest(owner, repo, head) {
      const items = await http.all<GitLabMergeRequest>(project(owner, repo, 'merge_requests'), {
        source_branch: head,
        state: 'all',
        per_page: 100,
      });
      const newest = items
        .filter((mr) => mr.source_branch === head)
        .sort((a, b) => b.iid - a.iid)[0];
      return newest ? mapGitLabMergeRequest(newest) : null;
    },
    async pullRequest(owner, repo, number) {
      const mr = await http.get<GitLabMergeRequest>(project(owner, repo, 'merge_requests', number));
      return mapGitLabMergeRequest(mr);
    },
    async createPullRequest(owner, repo, pr) {
      const mr = await http.post<GitLabMergeRequest>(project(owner, repo, 'merge_requests'), {
        source_branch: pr.head,
        target_branch: pr.base,
        title: pr.title,
        description: pr.body,
      });
      return mapGitLabMergeRequest(mr);
    },
    async updatePullRequest(owner, repo, number, change) {
      const mr = await http.put<GitLabMergeRequest>(
        project(owner, repo, 'merge_requests', number),
        { title: change.title, description: change.body },
      );
      return mapGitLabMergeRequest(mr);
    },
    async mergePullRequest(owner, repo, number) {
      await http.put(project(owner, repo, 'merge_requests', number, 'merge'), {});
    },
    async openIssuesWithLabel(owner, repo, label, since) {
      const result = await http.allConditional<GitLabIssue>(
        project(owner, repo, 'issues'),
        { labels: label, state: 'opened', per_page: 100 },
        since,
      );
      if (result.notModified) return result;
      return { ...result, items: result.items.map(mapGitLabIssue) };
    },
    async repoCommentsSince(owner, repo, sinceMs, since) {
      // No repository-wide notes endpoint: the issues touched since then, then their notes.
      // A new note bumps its issue's `updated_at`, so nothing newer is missed.
      const touched = await http.allConditional<GitLabIssue>(
        project(owner, repo, 'issues'),
        { updated_after: new Date(sinceMs).toISOString(), state: 'all', per_page: 100 },
        since,
      );
      if (touched.notModified) return touched;
      const items: ForgeComment[] = [];
      for (const issue of touched.items) {
        for (const note of await notesOf(owner, repo, issue.iid)) {
          if (Math.max(Date.parse(note.created_at), Date.parse(note.updated_at)) >= sinceMs) {
            items.push(mapGitLabNote(note, issue.iid, issue.web_url));
          }
        }
      }
      return { ...touched, items: items.sort(byCreation) };
    },
  };
}
