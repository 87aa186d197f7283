/**
 * The REST surface kugetsu uses on a forge, in one shape for Gitea/Forgejo, GitHub and GitLab.
 * Each kind implements it over plain `fetch` (see `forge-http.ts`); the hand-off, intake and
 * doctor logic above it never sees a forge's own field names.
 */

export type ForgeIssueState = 'open' | 'closed';
export type PullRequestState = 'open' | 'closed' | 'merged';

export interface ForgeIssue {
  number: number;
  title: string;
  body: string;
  state: ForgeIssueState;
  labels: string[];
  /** The issue's web page. */
  url: string;
  author: string;
  /** Epoch ms. */
  updatedAt: number;
}

export interface ForgeComment {
  id: number;
  /** The issue (or pull request) number the comment belongs to. */
  issueNumber: number;
  author: string;
  body: string;
  /** Epoch ms. */
  createdAt: number;
  url: string;
}

export interface ForgePullRequest {
  number: number;
  state: PullRequestState;
  /** The web page a person opens. */
  url: string;
  title: string;
  body: string;
  /** Source branch name (no `owner:` prefix). */
  head: string;
  /** Target branch name. */
  base: string;
}

export interface ForgeRepo {
  defaultBranch: string;
  url: string;
}

export interface ForgeIdentity {
  login: string;
  /** The token's scopes where the forge reports them (GitHub classic tokens, GitLab); else null. */
  scopes: string[] | null;
}

/** A conditional list: `notModified` when the forge answered 304 to the stored validator. */
export type Conditional<T> =
  | { notModified: true; etag: string | null; lastModified: string | null }
  | { notModified: false; items: T; etag: string | null; lastModified: string | null };

export interface ConditionalRequest {
  etag?: string | null;
  lastModified?: string | null;
}

export interface NewPullRequest {
  head: string;
  base: string;
  title: string;
  body: string;
}

export interface ForgeApi {
  /** Who the token belongs to (doctor: reachable, token valid, scopes). */
  whoami(): Promise<ForgeIdentity>;
  repo(owner: string, repo: string): Promise<ForgeRepo>;
  issue(owner: string, repo: string, number: number): Promise<ForgeIssue>;
  /** Every comment, oldest first, across all pages; forge system notes left out. */
  issueComments(owner: string, repo: string, number: number): Promise<ForgeComment[]>;
  createIssueComment(
    owner: string,
    repo: string,
    number: number,
    body: string,
  ): Promise<ForgeComment>;
  /** The newest pull request whose source branch is `head`, in any state; null if none. */
  findPullRequest(owner: string, repo: string, head: string): Promise<ForgePullRequest | null>;
  pullRequest(owner: string, repo: string, number: number): Promise<ForgePullRequest>;
  createPullRequest(owner: string, repo: string, pr: NewPullRequest): Promise<ForgePullRequest>;
  updatePullRequest(
    owner: string,
    repo: string,
    number: number,
    change: { title: string; body: string },
  ): Promise<ForgePullRequest>;
  /**
   * Merges the pull request with a merge commit. Resolves once the forge accepted the merge;
   * a refusal (not mergeable, conflicts, a stale head) is a `ForgeError` carrying the forge's
   * status and words.
   */
  mergePullRequest(owner: string, repo: string, number: number): Promise<void>;
  /** Open issues (not pull requests) carrying `label`, all pages; conditional on the first page. */
  openIssuesWithLabel(
    owner: string,
    repo: string,
    label: string,
    since: ConditionalRequest,
  ): Promise<Conditional<ForgeIssue[]>>;
  /** Comments on any issue of the repository updated after `sinceMs`, oldest first. */
  repoCommentsSince(
    owner: string,
    repo: string,
    sinceMs: number,
    since: ConditionalRequest,
  ): Promise<Conditional<ForgeComment[]>>;
}
