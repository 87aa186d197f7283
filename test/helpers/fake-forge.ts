/**
 * A local GitHub, Gitea or GitLab for end-to-end tests. It speaks each forge's real REST shapes
 * for the endpoints kugetsu uses (field names, status codes, error bodies, `Link` pagination,
 * `ETag`/`Last-Modified` conditional GETs) and serves real git over smart HTTP from bare
 * repositories, so the real clients — kugetsu's `ForgeApi` and `git` itself — run against it
 * through a base URL. The GitHub shapes are checked against GitHub's OpenAPI description in
 * `test/fake-forge-openapi.test.ts`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { serveGitHttp } from './git-http-backend.js';

const run = promisify(execFile);

export type FakeForgeKind = 'github' | 'gitea' | 'gitlab';

export interface FakeForgeOptions {
  kind: FakeForgeKind;
  /** The only token the server accepts (REST and git). */
  token: string;
  /** The token owner's login. Default `kugetsu-bot`. */
  login?: string;
  /**
   * Scopes reported for the token: GitHub's `X-OAuth-Scopes` header, GitLab's
   * `/personal_access_tokens/self`. Null: GitHub sends no header (a fine-grained token) and
   * GitLab answers 404 there. Default `['repo']` on GitHub, `['api']` on GitLab.
   */
  scopes?: string[] | null;
}

/** One request as the server saw it. The token never appears here. */
export interface RecordedForgeRequest {
  method: string;
  /** The raw path (GitLab project ids stay encoded: `/api/v4/projects/me%2Fapp`). */
  path: string;
  query: Record<string, string>;
  status: number;
  /** The parsed JSON request body, or null. */
  body: unknown;
  /** The parsed JSON response body, or null (304s, git traffic). */
  response: unknown;
}

export interface FakePullRequest {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  title: string;
  body: string;
  head: string;
  base: string;
  author: string;
}

export interface FakeComment {
  id: number;
  number: number;
  body: string;
  author: string;
  createdAt: number;
  system: boolean;
}

export interface NewFakeIssue {
  title: string;
  body: string;
  labels?: string[];
  state?: 'open' | 'closed';
  author?: string;
}

export interface HeldRequests {
  /** Resolves when the first matching request arrives. */
  arrived: Promise<void>;
  /** Lets every held request (and later matches) through. */
  release(): void;
}

// ---------------------------------------------------------------------------------------------
// The model: one store for all three kinds, shaped into each forge's JSON on the way out.

interface Item {
  id: number;
  number: number;
  isPull: boolean;
  title: string;
  body: string;
  state: 'open' | 'closed';
  merged: boolean;
  labels: string[];
  author: string;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  mergedAt: number | null;
  head: string;
  base: string;
  headSha: string;
  /**
   * Whether the forge lets it merge apart from conflicts (false: a draft, checks pending, a
   * protected branch). Conflicts are not modelled here: git finds them when a merge is asked.
   */
  mergeable: boolean;
}

interface Note {
  id: number;
  /** The issue or pull request number (GitLab: the issue iid; MR notes are not modelled). */
  number: number;
  body: string;
  author: string;
  createdAt: number;
  updatedAt: number;
  system: boolean;
}

interface Repo {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  gitDir: string;
  createdAt: number;
  updatedAt: number;
  /** Issues, and on GitHub and Gitea pull requests too: they share one number sequence. */
  items: Item[];
  /** GitLab merge requests: their own iid sequence. */
  mergeRequests: Item[];
  notes: Note[];
}

interface Hold {
  method: string;
  path: RegExp;
  released: Promise<void>;
  release(): void;
  arrived(): void;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** For `Last-Modified` and `If-Modified-Since`. */
  lastModified?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const API_PREFIX: Record<FakeForgeKind, string> = {
  github: '/api/v3',
  gitea: '/api/v1',
  gitlab: '/api/v4',
};

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Fake Forge',
  GIT_AUTHOR_EMAIL: 'fake@forge.test',
  GIT_COMMITTER_NAME: 'Fake Forge',
  GIT_COMMITTER_EMAIL: 'fake@forge.test',
};

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  return { ...env, ...GIT_ENV };
}

async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: gitEnv() });
  return stdout.trim();
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const isoMs = (ms: number): string => new Date(ms).toISOString();

export class FakeForge {
  readonly kind: FakeForgeKind;
  /** Web and git base, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The REST root: `url` + `/api/v3` (GitHub Enterprise style), `/api/v1` or `/api/v4`. */
  readonly apiUrl: string;
  /** Every request, in arrival order of completion. */
  readonly requests: RecordedForgeRequest[] = [];

  private token: string;
  private readonly login: string;
  private readonly scopes: string[] | null;
  private readonly repos = new Map<string, Repo>();
  private readonly holds: Hold[] = [];
  private nextId = 1000;
  private lastTime = 0;
  private readonly userIds = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    private readonly root: string,
    options: FakeForgeOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.kind = options.kind;
    this.token = options.token;
    this.login = options.login ?? 'kugetsu-bot';
    this.scopes =
      options.scopes === undefined
        ? options.kind === 'gitlab'
          ? ['api']
          : ['repo']
        : options.scopes;
    this.url = `http://127.0.0.1:${port}`;
    this.apiUrl = this.url + API_PREFIX[options.kind];
  }

  /** Starts a server on 127.0.0.1 at a random port. */
  static async start(options: FakeForgeOptions): Promise<FakeForge> {
    const root = await mkdtemp(join(tmpdir(), `kugetsu-fake-${options.kind}-`));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const forge = new FakeForge(server, root, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      forge.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    return forge;
  }

  // -------------------------------------------------------------------------------------------
  // Seeding and inspection.

  setToken(token: string): void {
    this.token = token;
  }

  /** A bare repository with one commit holding `files` (default a README) on `defaultBranch`. */
  async addRepo(
    owner: string,
    name: string,
    options: { files?: Record<string, string>; defaultBranch?: string } = {},
  ): Promise<void> {
    const branch = options.defaultBranch ?? 'main';
    const gitDir = join(this.root, 'git', owner, `${name}.git`);
    const work = await mkdtemp(join(this.root, 'seed-'));
    const files = options.files ?? { 'README.md': `# ${name}\n` };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    await mkdir(gitDir, { recursive: true });
    await git(['init', '--bare', '--quiet', '-b', branch, gitDir]);
    await git(['config', 'http.receivepack', 'true'], gitDir);
    await git(['init', '--quiet', '-b', branch], work);
    await git(['add', '-A'], work);
    await git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'initial commit'], work);
    await git(['push', '--quiet', gitDir, `HEAD:refs/heads/${branch}`], work);
    await rm(work, { recursive: true, force: true });
    const now = this.tick();
    this.repos.set(`${owner}/${name}`, {
      id: this.id(),
      owner,
      name,
      defaultBranch: branch,
      gitDir,
      createdAt: now,
      updatedAt: now,
      items: [],
      mergeRequests: [],
      notes: [],
    });
  }

  /**
   * A branch with one commit over the default branch (default: one file named after it), as if
   * pushed; returns its sha. Tests that only need a pull request's head skip a real push.
   */
  async addBranch(
    owner: string,
    repo: string,
    branch: string,
    files: Record<string, string> = { [`${branch.replace(/\W/g, '-')}.txt`]: `${branch}\n` },
  ): Promise<string> {
    const state = this.repoOrThrow(owner, repo);
    const work = await mkdtemp(join(this.root, 'branch-'));
    await git(['clone', '--quiet', '-b', state.defaultBranch, state.gitDir, work]);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    await git(['add', '-A'], work);
    await git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', `work on ${branch}`], work);
    await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], work);
    const sha = await git(['rev-parse', 'HEAD'], work);
    await rm(work, { recursive: true, force: true });
    state.updatedAt = this.tick();
    return sha;
  }

  /** Returns the new issue's number (GitLab: its iid). */
  addIssue(owner: string, repo: string, issue: NewFakeIssue): number {
    const state = this.repoOrThrow(owner, repo);
    const now = this.tick();
    const item: Item = {
      id: this.id(),
      number: this.nextNumber(state, false),
      isPull: false,
      title: issue.title,
      body: issue.body,
      state: issue.state ?? 'open',
      merged: false,
      labels: issue.labels ?? [],
      author: issue.author ?? 'alice',
      createdAt: now,
      updatedAt: now,
      closedAt: issue.state === 'closed' ? now : null,
      mergedAt: null,
      head: '',
      base: '',
      headSha: '',
      mergeable: false,
    };
    state.items.push(item);
    state.updatedAt = now;
    // GitLab records label changes as system notes, which clients must leave out.
    if (this.kind === 'gitlab' && item.labels.length > 0) {
      this.pushNote(
        state,
        item,
        `added ${item.labels.map((l) => `~${l}`).join(' ')} label`,
        'system',
        true,
      );
    }
    return item.number;
  }

  /** Returns the comment's id. */
  addComment(owner: string, repo: string, number: number, body: string, author = 'alice'): number {
    const state = this.repoOrThrow(owner, repo);
    const item = state.items.find((i) => i.number === number);
    if (!item) throw new Error(`no issue ${owner}/${repo}#${number}`);
    return this.pushNote(state, item, body, author, false).id;
  }

  mergePullRequest(owner: string, repo: string, number: number): void {
    const pr = this.pullOrThrow(owner, repo, number);
    const now = this.tick();
    Object.assign(pr, {
      state: 'closed',
      merged: true,
      mergedAt: now,
      closedAt: now,
      updatedAt: now,
    });
    this.repoOrThrow(owner, repo).updatedAt = now;
  }

  closePullRequest(owner: string, repo: string, number: number): void {
    const pr = this.pullOrThrow(owner, repo, number);
    const now = this.tick();
    Object.assign(pr, { state: 'closed', closedAt: now, updatedAt: now });
    this.repoOrThrow(owner, repo).updatedAt = now;
  }

  /**
   * Whether the forge lets pull request `number` merge, conflicts aside (false: a draft, checks
   * pending, a protected branch). Its merge endpoint then refuses in that forge's words.
   */
  setMergeable(owner: string, repo: string, number: number, mergeable: boolean): void {
    this.pullOrThrow(owner, repo, number).mergeable = mergeable;
  }

  /** A commit on `branch` (which must exist) changing `files`, as someone else's push; its sha. */
  async commitTo(
    owner: string,
    repo: string,
    branch: string,
    files: Record<string, string>,
  ): Promise<string> {
    const state = this.repoOrThrow(owner, repo);
    const work = await mkdtemp(join(this.root, 'commit-'));
    await git(['clone', '--quiet', '-b', branch, state.gitDir, work]);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    await git(['add', '-A'], work);
    await git(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', `change ${branch}`], work);
    await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], work);
    const sha = await git(['rev-parse', 'HEAD'], work);
    await rm(work, { recursive: true, force: true });
    state.updatedAt = this.tick();
    return sha;
  }

  /** The content of `path` on `branch` in the bare repository, or null. */
  async fileAt(owner: string, repo: string, branch: string, path: string): Promise<string | null> {
    const state = this.repoOrThrow(owner, repo);
    try {
      return await git(['--git-dir', state.gitDir, 'show', `refs/heads/${branch}:${path}`]);
    } catch {
      return null;
    }
  }

  closeIssue(owner: string, repo: string, number: number): void {
    const state = this.repoOrThrow(owner, repo);
    const item = state.items.find((i) => i.number === number && !i.isPull);
    if (!item) throw new Error(`no issue ${owner}/${repo}#${number}`);
    const now = this.tick();
    Object.assign(item, { state: 'closed', closedAt: now, updatedAt: now });
    state.updatedAt = now;
    if (this.kind === 'gitlab') this.pushNote(state, item, 'closed', this.login, true);
  }

  /** Puts a label on a pull request (GitHub and Gitea list it among the labelled issues). */
  labelPullRequest(owner: string, repo: string, number: number, label: string): void {
    const pr = this.pullOrThrow(owner, repo, number);
    pr.labels.push(label);
    pr.updatedAt = this.tick();
    this.repoOrThrow(owner, repo).updatedAt = pr.updatedAt;
  }

  pullRequests(owner: string, repo: string): FakePullRequest[] {
    return this.pulls(this.repoOrThrow(owner, repo)).map((p) => ({
      number: p.number,
      state: p.state,
      merged: p.merged,
      title: p.title,
      body: p.body,
      head: p.head,
      base: p.base,
      author: p.author,
    }));
  }

  /** Every comment on issue `number`, oldest first, GitLab's system notes included. */
  comments(owner: string, repo: string, number: number): FakeComment[] {
    return this.repoOrThrow(owner, repo)
      .notes.filter((n) => n.number === number)
      .map((n) => ({
        id: n.id,
        number: n.number,
        body: n.body,
        author: n.author,
        createdAt: n.createdAt,
        system: n.system,
      }));
  }

  /** The commit `branch` points at in the bare repository, or null. */
  async branchHead(owner: string, repo: string, branch: string): Promise<string | null> {
    return this.revParse(this.repoOrThrow(owner, repo), branch);
  }

  /**
   * Holds every request whose method and path (the raw path, no query) match until `release()`,
   * so a test can kill a client mid-request.
   */
  hold(method: string, path: RegExp): HeldRequests {
    let release!: () => void;
    let arrived!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const hold: Hold = { method: method.toUpperCase(), path, released, release, arrived };
    this.holds.push(hold);
    return {
      arrived: arrival,
      release: () => {
        this.holds.splice(this.holds.indexOf(hold), 1);
        release();
      },
    };
  }

  async close(): Promise<void> {
    for (const hold of [...this.holds]) hold.release();
    this.holds.length = 0;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.root, { recursive: true, force: true });
  }

  // -------------------------------------------------------------------------------------------
  // Plumbing.

  /** Strictly increasing epoch ms, so every mutation changes `updated_at`. */
  private tick(): number {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    return this.lastTime;
  }

  /** A time as the forge stores it: GitHub and Gitea keep whole seconds, GitLab milliseconds. */
  private stored(ms: number): number {
    return this.kind === 'gitlab' ? ms : Math.floor(ms / 1000) * 1000;
  }

  private id(): number {
    return ++this.nextId;
  }

  private userId(login: string): number {
    let id = this.userIds.get(login);
    if (id === undefined) {
      id = this.userIds.size + 1;
      this.userIds.set(login, id);
    }
    return id;
  }

  private nextNumber(repo: Repo, isPull: boolean): number {
    if (this.kind === 'gitlab' && isPull) return repo.mergeRequests.length + 1;
    return repo.items.length + 1;
  }

  private pulls(repo: Repo): Item[] {
    return this.kind === 'gitlab' ? repo.mergeRequests : repo.items.filter((i) => i.isPull);
  }

  private pushNote(repo: Repo, item: Item, body: string, author: string, system: boolean): Note {
    const now = this.tick();
    const note: Note = {
      id: this.id(),
      number: item.number,
      body,
      author,
      createdAt: now,
      updatedAt: now,
      system,
    };
    repo.notes.push(note);
    item.updatedAt = now;
    repo.updatedAt = now;
    return note;
  }

  private repoOrThrow(owner: string, repo: string): Repo {
    const state = this.repos.get(`${owner}/${repo}`);
    if (!state) throw new Error(`no repository ${owner}/${repo} (addRepo first)`);
    return state;
  }

  private pullOrThrow(owner: string, repo: string, number: number): Item {
    const pr = this.pulls(this.repoOrThrow(owner, repo)).find((p) => p.number === number);
    if (!pr) throw new Error(`no pull request ${owner}/${repo}#${number}`);
    return pr;
  }

  private async revParse(repo: Repo, branch: string): Promise<string | null> {
    try {
      return await git([
        '--git-dir',
        repo.gitDir,
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/heads/${branch}^{commit}`,
      ]);
    } catch {
      return null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Requests.

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    // Gitea takes a token as a query parameter; it must not reach the log.
    delete query.token;
    delete query.access_token;
    const waitForHolds = async (): Promise<void> => {
      for (const hold of this.holds) {
        if (hold.method === method && hold.path.test(path)) {
          hold.arrived();
          await hold.released;
        }
      }
    };
    const record = (status: number, body: unknown, response: unknown): void => {
      this.requests.push({ method, path, query, status, body, response });
    };

    if (!path.startsWith(API_PREFIX[this.kind] + '/') && /\.git(\/|$)/.test(path)) {
      if (!this.gitAuthorized(req)) {
        res.writeHead(401, {
          'WWW-Authenticate': 'Basic realm="fake"',
          'Content-Type': 'text/plain',
        });
        res.end('Authentication required\n');
        record(401, null, null);
        return;
      }
      await waitForHolds();
      const status = await serveGitHttp(req, res, {
        projectRoot: join(this.root, 'git'),
        pathInfo: decodeURIComponent(path),
        queryString: url.search.slice(1),
        remoteUser: this.login,
      });
      record(status, null, null);
      return;
    }

    const text = await readBody(req);
    // Held only once received whole: released after its client died, it is still carried out,
    // as a real forge carries out a request whose answer nobody reads.
    await waitForHolds();
    let body: unknown = null;
    let reply: Reply;
    try {
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, this.errorBody(400, 'Problems parsing JSON'));
        }
      }
      const prefix = API_PREFIX[this.kind];
      if (!path.startsWith(prefix + '/')) throw this.notFound();
      this.authorize(req, url);
      const segments = path
        .slice(prefix.length + 1)
        .split('/')
        .map((s) => decodeURIComponent(s));
      reply = await this.route(method, segments, url, body);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      reply = { status: err.status, body: err.body };
    }
    this.send(req, res, reply, method);
    record(res.statusCode, body, res.statusCode === 304 ? null : (reply.body ?? null));
  }

  private send(req: IncomingMessage, res: ServerResponse, reply: Reply, method: string): void {
    const headers: Record<string, string> = { ...reply.headers };
    const json = reply.body === undefined ? '' : JSON.stringify(reply.body);
    if (json !== '') headers['Content-Type'] = 'application/json; charset=utf-8';
    if (this.kind === 'github' && this.scopes !== null) {
      headers['X-OAuth-Scopes'] = this.scopes.join(', ');
      headers['X-Accepted-OAuth-Scopes'] = 'repo';
    }
    if (method === 'GET' && reply.status === 200) {
      const etag = `W/"${createHash('sha1').update(json).digest('hex')}"`;
      headers.ETag = etag;
      if (reply.lastModified !== undefined) {
        headers['Last-Modified'] = new Date(reply.lastModified).toUTCString();
      }
      const ifNoneMatch = req.headers['if-none-match'];
      const ifModifiedSince = req.headers['if-modified-since'];
      // RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only counts without it.
      const notModified =
        ifNoneMatch !== undefined
          ? ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')
          : ifModifiedSince !== undefined &&
            reply.lastModified !== undefined &&
            Math.floor(reply.lastModified / 1000) * 1000 <= Date.parse(ifModifiedSince);
      if (notModified) {
        delete headers['Content-Type'];
        res.writeHead(304, headers);
        res.end();
        return;
      }
    }
    res.writeHead(reply.status, headers);
    res.end(json);
  }

  private presentedToken(req: IncomingMessage, url: URL): string | null {
    const auth = req.headers.authorization;
    if (auth) {
      const match = /^(Bearer|token)\s+(.+)$/i.exec(auth);
      if (match) {
        const scheme = match[1]!.toLowerCase();
        // GitHub and Gitea take `token X` and `Bearer X`; GitLab takes `Bearer X` only.
        if (scheme === 'bearer' || this.kind !== 'gitlab') return match[2]!.trim();
      }
      return '';
    }
    if (this.kind === 'gitlab') {
      const header = req.headers['private-token'];
      if (typeof header === 'string') return header;
    }
    if (this.kind === 'gitea') {
      const param = url.searchParams.get('token') ?? url.searchParams.get('access_token');
      if (param !== null) return param;
    }
    return null;
  }

  private authorize(req: IncomingMessage, url: URL): void {
    const token = this.presentedToken(req, url);
    if (token === this.token) return;
    const missing = token === null;
    const message =
      this.kind === 'github'
        ? missing
          ? 'Requires authentication'
          : 'Bad credentials'
        : this.kind === 'gitea'
          ? missing
            ? 'token is required'
            : 'user does not exist [uid: 0, name: ]'
          : '401 Unauthorized';
    throw new HttpError(401, this.errorBody(401, message));
  }

  /** Basic with the token as password (any user), or a Bearer token. */
  private gitAuthorized(req: IncomingMessage): boolean {
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(auth);
    if (bearer) return bearer[1]!.trim() === this.token;
    const basic = /^Basic\s+(.+)$/i.exec(auth);
    if (!basic) return false;
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && decoded.slice(colon + 1) === this.token;
  }

  private errorBody(status: number, message: unknown): unknown {
    switch (this.kind) {
      case 'github':
        return {
          message,
          documentation_url: 'https://docs.github.com/rest',
          status: String(status),
        };
      case 'gitea':
        return { message, url: `${this.url}/api/swagger` };
      case 'gitlab':
        return { message };
    }
  }

  private notFound(what = 'Not Found'): HttpError {
    const message =
      this.kind === 'github'
        ? 'Not Found'
        : this.kind === 'gitea'
          ? "The target couldn't be found."
          : `404 ${what}`;
    return new HttpError(404, this.errorBody(404, message));
  }

  /** GitHub's 422 shape, with an `errors` list. */
  private validationFailed(errors: Record<string, string>[]): HttpError {
    return new HttpError(422, {
      message: 'Validation Failed',
      errors,
      documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      status: '422',
    });
  }

  private repoOr404(owner: string | undefined, name: string | undefined): Repo {
    const repo = this.repos.get(`${owner}/${name}`);
    if (!repo) throw this.notFound('Project Not Found');
    return repo;
  }

  private route(method: string, s: string[], url: URL, body: unknown): Promise<Reply> | Reply {
    if (s.length === 1 && s[0] === 'user' && method === 'GET') return this.getUser();
    switch (this.kind) {
      case 'github':
      case 'gitea':
        return this.routeRepos(method, s, url, body);
      case 'gitlab':
        return this.routeGitLab(method, s, url, body);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Pagination.

  private page<T>(url: URL, items: T[], reply: Omit<Reply, 'status'> = {}): Reply {
    const [sizeParam, fallback, max] =
      this.kind === 'github'
        ? ['per_page', 30, 100]
        : this.kind === 'gitea'
          ? ['limit', 30, 50]
          : ['per_page', 20, 100];
    const requested = Number.parseInt(url.searchParams.get(sizeParam) ?? '', 10);
    const size = Math.min(Number.isFinite(requested) && requested > 0 ? requested : fallback, max);
    const pageParam = Number.parseInt(url.searchParams.get('page') ?? '', 10);
    const page = Number.isFinite(pageParam) && pageParam > 0 ? pageParam : 1;
    const pages = Math.max(1, Math.ceil(items.length / size));
    const slice = items.slice((page - 1) * size, page * size);
    const headers: Record<string, string> = { ...reply.headers };
    const link = (n: number, rel: string): string => {
      const target = new URL(url.href);
      target.searchParams.set('page', String(n));
      if (!target.searchParams.has(sizeParam)) target.searchParams.set(sizeParam, String(size));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < pages) links.push(link(page + 1, 'next'));
    if (pages > 1) {
      links.push(link(1, 'first'));
      links.push(link(pages, 'last'));
    }
    if (links.length > 0) headers.Link = links.join(', ');
    if (this.kind === 'gitea') headers['X-Total-Count'] = String(items.length);
    if (this.kind === 'gitlab') {
      Object.assign(headers, {
        'X-Total': String(items.length),
        'X-Total-Pages': String(pages),
        'X-Per-Page': String(size),
        'X-Page': String(page),
        'X-Next-Page': page < pages ? String(page + 1) : '',
        'X-Prev-Page': page > 1 ? String(page - 1) : '',
      });
    }
    return { ...reply, status: 200, body: slice, headers };
  }

  // -------------------------------------------------------------------------------------------
  // Users.

  private getUser(): Reply {
    const login = this.login;
    const id = this.userId(login);
    const created = iso(Date.UTC(2020, 0, 1));
    if (this.kind === 'github') {
      return {
        status: 200,
        body: {
          ...this.githubUser(login),
          name: 'Kugetsu Bot',
          company: null,
          blog: '',
          location: null,
          email: null,
          hireable: null,
          bio: null,
          twitter_username: null,
          notification_email: null,
          public_repos: this.repos.size,
          public_gists: 0,
          followers: 0,
          following: 0,
          created_at: created,
          updated_at: created,
          private_gists: 0,
          total_private_repos: 0,
          owned_private_repos: 0,
          disk_usage: 0,
          collaborators: 0,
          two_factor_authentication: false,
          plan: { name: 'free', space: 976562499, collaborators: 0, private_repos: 10000 },
        },
      };
    }
    if (this.kind === 'gitea') return { status: 200, body: this.giteaUser(login, true) };
    return {
      status: 200,
      body: {
        ...this.gitlabUser(login),
        created_at: isoMs(Date.UTC(2020, 0, 1)),
        bio: '',
        location: '',
        public_email: null,
        skype: '',
        linkedin: '',
        twitter: '',
        website_url: '',
        organization: '',
        job_title: '',
        bot: false,
        last_sign_in_at: null,
        confirmed_at: isoMs(Date.UTC(2020, 0, 1)),
        last_activity_on: null,
        email: `${login}@forge.test`,
        theme_id: 1,
        color_scheme_id: 1,
        projects_limit: 100000,
        current_sign_in_at: null,
        identities: [],
        can_create_group: true,
        can_create_project: true,
        two_factor_enabled: false,
        external: false,
        private_profile: false,
        commit_email: `${login}@forge.test`,
        id,
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // GitHub and Gitea: /repos/{owner}/{repo}/...

  private async routeRepos(method: string, s: string[], url: URL, body: unknown): Promise<Reply> {
    if (s[0] !== 'repos' || s.length < 3) throw this.notFound();
    const repo = this.repoOr404(s[1], s[2]);
    const rest = s.slice(3);
    const [a, b, c] = rest;
    if (rest.length === 0 && method === 'GET') {
      return { status: 200, body: this.repoJson(repo), lastModified: repo.updatedAt };
    }
    if (a === 'issues') {
      if (rest.length === 1 && method === 'GET') return this.listIssues(repo, url);
      if (rest.length === 2 && b === 'comments' && method === 'GET') {
        return this.listRepoComments(repo, url);
      }
      const item = repo.items.find((i) => String(i.number) === b);
      if (!item) throw this.notFound();
      if (rest.length === 2 && method === 'GET') {
        return { status: 200, body: this.issueJson(repo, item), lastModified: item.updatedAt };
      }
      if (rest.length === 3 && c === 'comments' && method === 'GET') {
        const since = Date.parse(url.searchParams.get('since') ?? '');
        const notes = repo.notes.filter(
          (n) =>
            n.number === item.number && (Number.isNaN(since) || this.stored(n.updatedAt) >= since),
        );
        const json = notes.map((n) => this.commentJson(repo, item, n));
        // Gitea returns an issue's comments in one unpaginated answer.
        if (this.kind === 'gitea') {
          return { status: 200, body: json, lastModified: item.updatedAt };
        }
        return this.page(url, json, { lastModified: item.updatedAt });
      }
      if (rest.length === 3 && c === 'comments' && method === 'POST') {
        const text = (body as { body?: unknown } | null)?.body;
        if (typeof text !== 'string' || text === '') throw this.invalid('body', 'missing_field');
        const note = this.pushNote(repo, item, text, this.login, false);
        return { status: 201, body: this.commentJson(repo, item, note) };
      }
    }
    if (a === 'pulls') {
      if (rest.length === 1 && method === 'GET') return this.listPulls(repo, url);
      if (rest.length === 1 && method === 'POST') return this.createPull(repo, body);
      const pr = this.pulls(repo).find((p) => String(p.number) === b);
      if (!pr) throw this.notFound();
      if (rest.length === 2 && method === 'GET') {
        return { status: 200, body: this.pullJson(repo, pr, true), lastModified: pr.updatedAt };
      }
      if (rest.length === 2 && method === 'PATCH') {
        this.editPull(repo, pr, body);
        // Gitea answers an edit with 201 Created.
        return { status: this.kind === 'gitea' ? 201 : 200, body: this.pullJson(repo, pr, true) };
      }
      // Gitea merges with POST, GitHub with PUT; each answers the other's verb with 404/405.
      if (
        rest.length === 3 &&
        c === 'merge' &&
        method === (this.kind === 'gitea' ? 'POST' : 'PUT')
      ) {
        return this.mergePull(repo, pr, body);
      }
    }
    throw this.notFound();
  }

  private invalid(field: string, code: string): HttpError {
    if (this.kind === 'github') return this.validationFailed([{ resource: 'Issue', field, code }]);
    return new HttpError(422, this.errorBody(422, `${field}: ${code}`));
  }

  private listIssues(repo: Repo, url: URL): Reply {
    const state = url.searchParams.get('state') ?? 'open';
    const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
    const type = url.searchParams.get('type');
    const items = repo.items
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => labels.every((l) => i.labels.includes(l)))
      .filter((i) => (type === 'issues' ? !i.isPull : type === 'pulls' ? i.isPull : true))
      .sort((x, y) => y.number - x.number);
    return this.page(
      url,
      items.map((i) => this.issueJson(repo, i)),
      { lastModified: repo.updatedAt },
    );
  }

  private listRepoComments(repo: Repo, url: URL): Reply {
    const since = Date.parse(url.searchParams.get('since') ?? '');
    const before = Date.parse(url.searchParams.get('before') ?? '');
    const desc = url.searchParams.get('direction') === 'desc';
    const notes = repo.notes
      .filter((n) => Number.isNaN(since) || this.stored(n.updatedAt) >= since)
      .filter((n) => Number.isNaN(before) || this.stored(n.updatedAt) < before)
      .sort((x, y) => (desc ? y.createdAt - x.createdAt : x.createdAt - y.createdAt));
    const json = notes.map((n) => {
      const item = repo.items.find((i) => i.number === n.number)!;
      return this.commentJson(repo, item, n);
    });
    return this.page(url, json, { lastModified: repo.updatedAt });
  }

  private listPulls(repo: Repo, url: URL): Reply {
    const state = url.searchParams.get('state') ?? 'open';
    const head = url.searchParams.get('head');
    const pulls = this.pulls(repo)
      .filter((p) => state === 'all' || p.state === state)
      // GitHub's filter is `user:branch`; Gitea has none.
      .filter((p) => this.kind !== 'github' || !head || head === `${repo.owner}:${p.head}`)
      .sort((x, y) => y.number - x.number);
    return this.page(
      url,
      pulls.map((p) => this.pullJson(repo, p, false)),
      { lastModified: repo.updatedAt },
    );
  }

  private async createPull(repo: Repo, body: unknown): Promise<Reply> {
    const input = (body ?? {}) as Record<string, unknown>;
    const str = (key: string): string => (typeof input[key] === 'string' ? input[key] : '');
    const gitlab = this.kind === 'gitlab';
    const head = str(gitlab ? 'source_branch' : 'head');
    const base = str(gitlab ? 'target_branch' : 'base') || (gitlab ? '' : repo.defaultBranch);
    const title = str('title');
    const text = str(gitlab ? 'description' : 'body');
    if (!title || !head || !base) {
      if (this.kind === 'github') {
        const field = !title ? 'title' : !head ? 'head' : 'base';
        throw this.validationFailed([{ resource: 'PullRequest', field, code: 'missing_field' }]);
      }
      throw new HttpError(
        gitlab ? 400 : 422,
        this.errorBody(
          gitlab ? 400 : 422,
          gitlab ? `title, source_branch, target_branch are missing` : '[Title]: Required',
        ),
      );
    }
    // A `user:branch` head names a fork; the fake only knows same-repository heads.
    const branch = head.includes(':') ? head.slice(head.indexOf(':') + 1) : head;
    const headSha = await this.revParse(repo, branch);
    const baseSha = await this.revParse(repo, base);
    if (headSha === null || baseSha === null) {
      if (this.kind === 'github') {
        const field = headSha === null ? 'head' : 'base';
        throw this.validationFailed([{ resource: 'PullRequest', field, code: 'invalid' }]);
      }
      if (this.kind === 'gitea') throw this.notFound();
      const which = headSha === null ? `Source branch "${branch}"` : `Target branch "${base}"`;
      throw new HttpError(400, { message: [`${which} does not exist`] });
    }
    const open = this.pulls(repo).find(
      (p) => p.state === 'open' && p.head === branch && (gitlab || p.base === base),
    );
    if (open) {
      if (this.kind === 'github') {
        throw this.validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${repo.owner}:${branch}.`,
          },
        ]);
      }
      if (this.kind === 'gitea') {
        throw new HttpError(
          409,
          this.errorBody(
            409,
            `pull request already exists for these targets [id: ${open.id}, issue_id: ${open.id}, head_repo_id: ${repo.id}, base_repo_id: ${repo.id}, head_branch: ${branch}, base_branch: ${base}]`,
          ),
        );
      }
      throw new HttpError(409, {
        message: [
          `Another open merge request already exists for this source branch: !${open.number}`,
        ],
      });
    }
    const now = this.tick();
    const pr: Item = {
      id: this.id(),
      number: this.nextNumber(repo, true),
      isPull: true,
      title,
      body: text,
      state: 'open',
      merged: false,
      labels: [],
      author: this.login,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      mergedAt: null,
      head: branch,
      base,
      headSha,
      mergeable: true,
    };
    if (gitlab) repo.mergeRequests.push(pr);
    else repo.items.push(pr);
    repo.updatedAt = now;
    return {
      status: 201,
      body: gitlab ? this.mergeRequestJson(repo, pr) : this.pullJson(repo, pr, true),
    };
  }

  /**
   * A merge as each forge answers it. Refusals first, in the forge's own order and words:
   * Gitea (`POST …/pulls/{n}/merge`, `Do` required): 404 closed, 405 merged / not mergeable,
   * 409 conflicts; GitHub (`PUT …/pulls/{n}/merge`): 405 "Pull Request is not mergeable", 409 a
   * stale `sha`; GitLab (`PUT …/merge_requests/:iid/merge`): 405 not open or not mergeable, 406
   * conflicts, 409 a stale `sha`. A merge that goes through is a real merge commit on the base
   * branch of the bare repository, made with git's own `merge-tree`.
   */
  private async mergePull(repo: Repo, pr: Item, body: unknown): Promise<Reply> {
    const input = (body ?? {}) as Record<string, unknown>;
    const refuse = (status: number, message: unknown): never => {
      throw new HttpError(status, this.errorBody(status, message));
    };
    if (this.kind === 'gitea') {
      const styles = ['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only'];
      if (typeof input.Do !== 'string' || !styles.includes(input.Do)) refuse(422, '[Do]: Required');
      if (pr.state === 'closed' && !pr.merged) throw this.notFound();
      if (pr.merged) refuse(405, '');
      if (!pr.mergeable) refuse(405, 'Please try again later');
    } else if (this.kind === 'github') {
      const method = input.merge_method;
      if (
        method !== undefined &&
        !(typeof method === 'string' && ['merge', 'squash', 'rebase'].includes(method))
      ) {
        throw this.validationFailed([
          { resource: 'PullRequest', field: 'merge_method', code: 'invalid' },
        ]);
      }
      if (pr.state !== 'open' || !pr.mergeable) refuse(405, 'Pull Request is not mergeable');
    } else if (pr.state !== 'open' || !pr.mergeable) {
      refuse(405, '405 Method Not Allowed');
    }
    const head = await this.revParse(repo, pr.head);
    const base = await this.revParse(repo, pr.base);
    if (head === null || base === null) {
      return refuse(
        this.kind === 'gitlab' ? 406 : 405,
        this.kind === 'gitlab' ? 'Branch cannot be merged' : 'Pull Request is not mergeable',
      );
    }
    const sha = typeof input.sha === 'string' ? input.sha : undefined;
    if (sha !== undefined && sha !== head && this.kind !== 'gitea') {
      refuse(
        409,
        this.kind === 'github'
          ? 'Head branch was modified. Review and try the merge again.'
          : `SHA does not match HEAD of source branch: ${head}`,
      );
    }
    let tree: string;
    try {
      tree = await git(['--git-dir', repo.gitDir, 'merge-tree', '--write-tree', base, head]);
    } catch {
      if (this.kind === 'gitea') {
        // Gitea serialises its ErrMergeConflicts as it is: no `message` field.
        throw new HttpError(409, {
          Style: 'merge',
          StdOut: '',
          StdErr: 'CONFLICT (content)',
          Err: {},
        });
      }
      return refuse(
        this.kind === 'github' ? 405 : 406,
        this.kind === 'github' ? 'Pull Request is not mergeable' : 'Branch cannot be merged',
      );
    }
    const title = `Merge pull request #${pr.number} from ${pr.head}`;
    const commit = await git([
      '--git-dir',
      repo.gitDir,
      'commit-tree',
      tree.split('\n')[0] ?? tree,
      '-p',
      base,
      '-p',
      head,
      '-m',
      title,
    ]);
    await git(['--git-dir', repo.gitDir, 'update-ref', `refs/heads/${pr.base}`, commit, base]);
    const now = this.tick();
    Object.assign(pr, {
      state: 'closed',
      merged: true,
      mergedAt: now,
      closedAt: now,
      updatedAt: now,
      headSha: head,
    });
    repo.updatedAt = now;
    if (this.kind === 'gitea') return { status: 200 };
    if (this.kind === 'github') {
      return {
        status: 200,
        body: { sha: commit, merged: true, message: 'Pull Request successfully merged' },
      };
    }
    return { status: 200, body: this.mergeRequestJson(repo, pr) };
  }

  private editPull(repo: Repo, pr: Item, body: unknown): void {
    const input = (body ?? {}) as Record<string, unknown>;
    if (typeof input.title === 'string') pr.title = input.title;
    const text = this.kind === 'gitlab' ? input.description : input.body;
    if (typeof text === 'string') pr.body = text;
    if (input.state === 'closed' || input.state_event === 'close') {
      pr.state = 'closed';
      pr.closedAt = this.tick();
    }
    pr.updatedAt = this.tick();
    repo.updatedAt = pr.updatedAt;
  }

  // -------------------------------------------------------------------------------------------
  // GitLab: /projects/{id}/...

  private async routeGitLab(method: string, s: string[], url: URL, body: unknown): Promise<Reply> {
    if (
      s[0] === 'personal_access_tokens' &&
      s[1] === 'self' &&
      s.length === 2 &&
      method === 'GET'
    ) {
      if (this.scopes === null) throw this.notFound('Not Found');
      return {
        status: 200,
        body: {
          id: 1,
          name: 'kugetsu',
          revoked: false,
          created_at: isoMs(Date.UTC(2024, 0, 1)),
          description: null,
          scopes: this.scopes,
          user_id: this.userId(this.login),
          last_used_at: isoMs(Date.now()),
          active: true,
          expires_at: null,
        },
      };
    }
    if (s[0] !== 'projects' || s.length < 2) throw this.notFound('Not Found');
    const [owner, name] = splitProjectPath(s[1]!);
    const repo = this.repoOr404(owner, name);
    const [a, b, c] = s.slice(2);
    const n = s.length - 2;
    if (n === 0 && method === 'GET') {
      return { status: 200, body: this.projectJson(repo), lastModified: repo.updatedAt };
    }
    if (a === 'issues') {
      if (n === 1 && method === 'GET') {
        const state = url.searchParams.get('state') ?? 'all';
        const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
        const after = Date.parse(url.searchParams.get('updated_after') ?? '');
        const items = repo.items
          .filter(
            (i) => state === 'all' || (state === 'opened' ? i.state === 'open' : i.state === state),
          )
          .filter((i) => labels.every((l) => i.labels.includes(l)))
          .filter((i) => Number.isNaN(after) || i.updatedAt >= after)
          .sort((x, y) => y.createdAt - x.createdAt);
        return this.page(
          url,
          items.map((i) => this.gitlabIssueJson(repo, i)),
          { lastModified: repo.updatedAt },
        );
      }
      const item = repo.items.find((i) => String(i.number) === b);
      if (!item) throw this.notFound('Issue Not Found');
      if (n === 2 && method === 'GET') {
        return {
          status: 200,
          body: this.gitlabIssueJson(repo, item),
          lastModified: item.updatedAt,
        };
      }
      if (n === 3 && c === 'notes' && method === 'GET') {
        const asc = url.searchParams.get('sort') === 'asc';
        const byUpdate = url.searchParams.get('order_by') === 'updated_at';
        const key = (x: Note): number => (byUpdate ? x.updatedAt : x.createdAt);
        const notes = repo.notes
          .filter((x) => x.number === item.number)
          .sort((x, y) => (asc ? key(x) - key(y) : key(y) - key(x)));
        return this.page(
          url,
          notes.map((x) => this.noteJson(repo, item, x)),
          { lastModified: item.updatedAt },
        );
      }
      if (n === 3 && c === 'notes' && method === 'POST') {
        const text = (body as { body?: unknown } | null)?.body;
        if (typeof text !== 'string' || text === '') {
          throw new HttpError(400, { error: 'body is missing' });
        }
        const note = this.pushNote(repo, item, text, this.login, false);
        return { status: 201, body: this.noteJson(repo, item, note) };
      }
    }
    if (a === 'merge_requests') {
      if (n === 1 && method === 'GET') {
        const state = url.searchParams.get('state') ?? 'all';
        const source = url.searchParams.get('source_branch');
        const mrs = repo.mergeRequests
          .filter((m) => state === 'all' || gitlabMrState(m) === state)
          .filter((m) => source === null || m.head === source)
          .sort((x, y) => y.createdAt - x.createdAt);
        return this.page(
          url,
          mrs.map((m) => this.mergeRequestJson(repo, m)),
          { lastModified: repo.updatedAt },
        );
      }
      if (n === 1 && method === 'POST') return this.createPull(repo, body);
      const mr = repo.mergeRequests.find((m) => String(m.number) === b);
      if (!mr) throw this.notFound('Not found');
      if (n === 2 && method === 'GET') {
        return { status: 200, body: this.mergeRequestJson(repo, mr), lastModified: mr.updatedAt };
      }
      if (n === 2 && method === 'PUT') {
        this.editPull(repo, mr, body);
        return { status: 200, body: this.mergeRequestJson(repo, mr) };
      }
      if (n === 3 && c === 'merge' && method === 'PUT') return this.mergePull(repo, mr, body);
    }
    throw this.notFound('Not found');
  }

  // -------------------------------------------------------------------------------------------
  // JSON shapes.

  private githubUser(login: string): Record<string, unknown> {
    const id = this.userId(login);
    const api = `${this.apiUrl}/users/${login}`;
    return {
      login,
      id,
      node_id: nodeId('U', id),
      avatar_url: `${this.url}/avatars/u/${id}`,
      gravatar_id: '',
      url: api,
      html_url: `${this.url}/${login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  }

  private githubRepo(repo: Repo): Record<string, unknown> {
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.url}/${repo.owner}/${repo.name}`;
    const open = repo.items.filter((i) => i.state === 'open').length;
    return {
      id: repo.id,
      node_id: nodeId('R', repo.id),
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      private: false,
      owner: this.githubUser(repo.owner),
      html_url: html,
      description: null,
      fork: false,
      url: api,
      forks_url: `${api}/forks`,
      keys_url: `${api}/keys{/key_id}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      teams_url: `${api}/teams`,
      hooks_url: `${api}/hooks`,
      issue_events_url: `${api}/issues/events{/number}`,
      events_url: `${api}/events`,
      assignees_url: `${api}/assignees{/user}`,
      branches_url: `${api}/branches{/branch}`,
      tags_url: `${api}/tags`,
      blobs_url: `${api}/git/blobs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      trees_url: `${api}/git/trees{/sha}`,
      statuses_url: `${api}/statuses/{sha}`,
      languages_url: `${api}/languages`,
      stargazers_url: `${api}/stargazers`,
      contributors_url: `${api}/contributors`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      commits_url: `${api}/commits{/sha}`,
      git_commits_url: `${api}/git/commits{/sha}`,
      comments_url: `${api}/comments{/number}`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      contents_url: `${api}/contents/{+path}`,
      compare_url: `${api}/compare/{base}...{head}`,
      merges_url: `${api}/merges`,
      archive_url: `${api}/{archive_format}{/ref}`,
      downloads_url: `${api}/downloads`,
      issues_url: `${api}/issues{/number}`,
      pulls_url: `${api}/pulls{/number}`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      labels_url: `${api}/labels{/name}`,
      releases_url: `${api}/releases{/id}`,
      deployments_url: `${api}/deployments`,
      created_at: iso(repo.createdAt),
      updated_at: iso(repo.updatedAt),
      pushed_at: iso(repo.updatedAt),
      git_url: `git://127.0.0.1/${repo.owner}/${repo.name}.git`,
      ssh_url: `git@127.0.0.1:${repo.owner}/${repo.name}.git`,
      clone_url: `${html}.git`,
      svn_url: html,
      homepage: null,
      size: 1,
      stargazers_count: 0,
      watchers_count: 0,
      language: null,
      has_issues: true,
      has_projects: true,
      has_downloads: true,
      has_wiki: true,
      has_pages: false,
      has_discussions: false,
      forks_count: 0,
      mirror_url: null,
      archived: false,
      disabled: false,
      open_issues_count: open,
      license: null,
      allow_forking: true,
      is_template: false,
      web_commit_signoff_required: false,
      topics: [],
      visibility: 'public',
      forks: 0,
      open_issues: open,
      watchers: 0,
      default_branch: repo.defaultBranch,
    };
  }

  private repoJson(repo: Repo): unknown {
    if (this.kind === 'github') {
      return {
        ...this.githubRepo(repo),
        permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
        network_count: 0,
        subscribers_count: 0,
      };
    }
    return this.giteaRepo(repo);
  }

  private githubLabel(repo: Repo, name: string): Record<string, unknown> {
    const id = labelId(name);
    return {
      id,
      node_id: nodeId('LA', id),
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      // The pulls schema types this as a non-null string, the issues schema as nullable.
      description: '',
    };
  }

  private issueJson(repo: Repo, item: Item): unknown {
    if (this.kind === 'gitea') return this.giteaIssue(repo, item);
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.url}/${repo.owner}/${repo.name}`;
    const comments = repo.notes.filter((n) => n.number === item.number).length;
    return {
      url: `${api}/issues/${item.number}`,
      repository_url: api,
      labels_url: `${api}/issues/${item.number}/labels{/name}`,
      comments_url: `${api}/issues/${item.number}/comments`,
      events_url: `${api}/issues/${item.number}/events`,
      html_url: `${html}/${item.isPull ? 'pull' : 'issues'}/${item.number}`,
      id: item.id,
      node_id: nodeId(item.isPull ? 'PR' : 'I', item.id),
      number: item.number,
      title: item.title,
      user: this.githubUser(item.author),
      labels: item.labels.map((l) => this.githubLabel(repo, l)),
      state: item.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments,
      created_at: iso(item.createdAt),
      updated_at: iso(item.updatedAt),
      closed_at: item.closedAt === null ? null : iso(item.closedAt),
      author_association: item.author === repo.owner ? 'OWNER' : 'NONE',
      active_lock_reason: null,
      ...(item.isPull
        ? {
            draft: false,
            pull_request: {
              url: `${api}/pulls/${item.number}`,
              html_url: `${html}/pull/${item.number}`,
              diff_url: `${html}/pull/${item.number}.diff`,
              patch_url: `${html}/pull/${item.number}.patch`,
              merged_at: item.mergedAt === null ? null : iso(item.mergedAt),
            },
          }
        : {}),
      body: item.body === '' ? null : item.body,
      closed_by: null,
      reactions: reactions(`${api}/issues/${item.number}/reactions`),
      timeline_url: `${api}/issues/${item.number}/timeline`,
      performed_via_github_app: null,
      state_reason: item.state === 'closed' ? 'completed' : null,
    };
  }

  private commentJson(repo: Repo, item: Item, note: Note): unknown {
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.url}/${repo.owner}/${repo.name}/${item.isPull ? (this.kind === 'github' ? 'pull' : 'pulls') : 'issues'}/${item.number}`;
    if (this.kind === 'gitea') {
      return {
        id: note.id,
        html_url: `${html}#issuecomment-${note.id}`,
        pull_request_url: item.isPull ? html : '',
        issue_url: item.isPull ? '' : html,
        user: this.giteaUser(note.author, false),
        original_author: '',
        original_author_id: 0,
        body: note.body,
        assets: [],
        created_at: iso(note.createdAt),
        updated_at: iso(note.updatedAt),
      };
    }
    return {
      url: `${api}/issues/comments/${note.id}`,
      html_url: `${html}#issuecomment-${note.id}`,
      issue_url: `${api}/issues/${item.number}`,
      id: note.id,
      node_id: nodeId('IC', note.id),
      user: this.githubUser(note.author),
      created_at: iso(note.createdAt),
      updated_at: iso(note.updatedAt),
      author_association: note.author === repo.owner ? 'OWNER' : 'NONE',
      body: note.body,
      reactions: reactions(`${api}/issues/comments/${note.id}/reactions`),
      performed_via_github_app: null,
    };
  }

  private pullJson(repo: Repo, pr: Item, full: boolean): unknown {
    if (this.kind === 'gitea') return this.giteaPull(repo, pr);
    const api = `${this.apiUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `${this.url}/${repo.owner}/${repo.name}/pull/${pr.number}`;
    const ref = (branch: string, sha: string): Record<string, unknown> => ({
      label: `${repo.owner}:${branch}`,
      ref: branch,
      sha,
      user: this.githubUser(repo.owner),
      repo: this.githubRepo(repo),
    });
    const link = (href: string): { href: string } => ({ href });
    const simple: Record<string, unknown> = {
      url: `${api}/pulls/${pr.number}`,
      id: pr.id,
      node_id: nodeId('PR', pr.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pr.number}`,
      number: pr.number,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: this.githubUser(pr.author),
      body: pr.body === '' ? null : pr.body,
      created_at: iso(pr.createdAt),
      updated_at: iso(pr.updatedAt),
      closed_at: pr.closedAt === null ? null : iso(pr.closedAt),
      merged_at: pr.mergedAt === null ? null : iso(pr.mergedAt),
      merge_commit_sha: pr.merged ? pr.headSha : null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      labels: pr.labels.map((l) => this.githubLabel(repo, l)),
      milestone: null,
      draft: false,
      commits_url: `${api}/pulls/${pr.number}/commits`,
      review_comments_url: `${api}/pulls/${pr.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${pr.number}/comments`,
      statuses_url: `${api}/statuses/${pr.headSha}`,
      head: ref(pr.head, pr.headSha),
      base: ref(pr.base, pr.headSha),
      _links: {
        self: link(`${api}/pulls/${pr.number}`),
        html: link(html),
        issue: link(`${api}/issues/${pr.number}`),
        comments: link(`${api}/issues/${pr.number}/comments`),
        review_comments: link(`${api}/pulls/${pr.number}/comments`),
        review_comment: link(`${api}/pulls/comments{/number}`),
        commits: link(`${api}/pulls/${pr.number}/commits`),
        statuses: link(`${api}/statuses/${pr.headSha}`),
      },
      author_association: 'OWNER',
      auto_merge: null,
      active_lock_reason: null,
    };
    if (!full) return simple;
    return {
      ...simple,
      merged: pr.merged,
      mergeable: pr.state === 'open' ? pr.mergeable : null,
      rebaseable: pr.state === 'open' ? pr.mergeable : null,
      mergeable_state: pr.state === 'open' ? (pr.mergeable ? 'clean' : 'blocked') : 'unknown',
      merged_by: pr.merged ? this.githubUser(this.login) : null,
      comments: repo.notes.filter((n) => n.number === pr.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    };
  }

  // Gitea shapes.

  private giteaUser(login: string, self: boolean): Record<string, unknown> {
    const id = this.userId(login);
    return {
      id,
      login,
      login_name: '',
      source_id: 0,
      full_name: '',
      email: `${login}@noreply.forge.test`,
      avatar_url: `${this.url}/avatars/${id}`,
      html_url: `${this.url}/${login}`,
      language: self ? 'en-US' : '',
      is_admin: false,
      last_login: iso(Date.UTC(2024, 0, 1)),
      created: iso(Date.UTC(2020, 0, 1)),
      restricted: false,
      active: true,
      prohibit_login: false,
      location: '',
      website: '',
      description: '',
      visibility: 'public',
      followers_count: 0,
      following_count: 0,
      starred_repos_count: 0,
      username: login,
    };
  }

  private giteaRepo(repo: Repo): Record<string, unknown> {
    const html = `${this.url}/${repo.owner}/${repo.name}`;
    const issues = repo.items.filter((i) => !i.isPull && i.state === 'open').length;
    const pulls = repo.items.filter((i) => i.isPull && i.state === 'open').length;
    return {
      id: repo.id,
      owner: this.giteaUser(repo.owner, false),
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      description: '',
      empty: false,
      private: false,
      fork: false,
      template: false,
      parent: null,
      mirror: false,
      size: 1,
      language: '',
      languages_url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/languages`,
      html_url: html,
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}`,
      link: '',
      ssh_url: `git@127.0.0.1:${repo.owner}/${repo.name}.git`,
      clone_url: `${html}.git`,
      original_url: '',
      website: '',
      stars_count: 0,
      forks_count: 0,
      watchers_count: 1,
      open_issues_count: issues,
      open_pr_counter: pulls,
      release_counter: 0,
      default_branch: repo.defaultBranch,
      archived: false,
      created_at: iso(repo.createdAt),
      updated_at: iso(repo.updatedAt),
      archived_at: iso(0),
      permissions: { admin: true, push: true, pull: true },
      has_issues: true,
      has_wiki: true,
      has_pull_requests: true,
      has_projects: true,
      has_releases: true,
      has_packages: true,
      has_actions: false,
      ignore_whitespace_conflicts: false,
      allow_merge_commits: true,
      allow_rebase: true,
      allow_rebase_explicit: true,
      allow_squash_merge: true,
      default_merge_style: 'merge',
      avatar_url: '',
      internal: false,
      mirror_interval: '',
      mirror_updated: iso(0),
      repo_transfer: null,
    };
  }

  private giteaLabel(name: string): Record<string, unknown> {
    return {
      id: labelId(name),
      name,
      exclusive: false,
      is_archived: false,
      color: 'ededed',
      description: '',
      url: `${this.url}/api/v1/labels/${labelId(name)}`,
    };
  }

  private giteaIssue(repo: Repo, item: Item): Record<string, unknown> {
    const html = `${this.url}/${repo.owner}/${repo.name}/${item.isPull ? 'pulls' : 'issues'}/${item.number}`;
    return {
      id: item.id,
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/issues/${item.number}`,
      html_url: html,
      number: item.number,
      user: this.giteaUser(item.author, false),
      original_author: '',
      original_author_id: 0,
      title: item.title,
      body: item.body,
      ref: '',
      assets: [],
      labels: item.labels.map((l) => this.giteaLabel(l)),
      milestone: null,
      assignee: null,
      assignees: null,
      state: item.state,
      is_locked: false,
      comments: repo.notes.filter((n) => n.number === item.number).length,
      created_at: iso(item.createdAt),
      updated_at: iso(item.updatedAt),
      closed_at: item.closedAt === null ? null : iso(item.closedAt),
      due_date: null,
      pull_request: item.isPull
        ? {
            merged: item.merged,
            merged_at: item.mergedAt === null ? null : iso(item.mergedAt),
            draft: false,
            html_url: html,
          }
        : null,
      repository: {
        id: repo.id,
        name: repo.name,
        owner: repo.owner,
        full_name: `${repo.owner}/${repo.name}`,
      },
      pin_order: 0,
    };
  }

  private giteaPull(repo: Repo, pr: Item): Record<string, unknown> {
    const html = `${this.url}/${repo.owner}/${repo.name}/pulls/${pr.number}`;
    const ref = (branch: string): Record<string, unknown> => ({
      label: branch,
      ref: branch,
      sha: pr.headSha,
      repo_id: repo.id,
      repo: this.giteaRepo(repo),
    });
    return {
      id: pr.id,
      url: html,
      number: pr.number,
      user: this.giteaUser(pr.author, false),
      title: pr.title,
      body: pr.body,
      labels: pr.labels.map((l) => this.giteaLabel(l)),
      milestone: null,
      assignee: null,
      assignees: null,
      requested_reviewers: null,
      state: pr.state,
      draft: false,
      is_locked: false,
      comments: repo.notes.filter((n) => n.number === pr.number).length,
      review_comments: 0,
      additions: 1,
      deletions: 0,
      changed_files: 1,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      mergeable: pr.state === 'open' && pr.mergeable,
      merged: pr.merged,
      merged_at: pr.mergedAt === null ? null : iso(pr.mergedAt),
      merge_commit_sha: pr.merged ? pr.headSha : null,
      merged_by: pr.merged ? this.giteaUser(this.login, false) : null,
      allow_maintainer_edit: false,
      base: ref(pr.base),
      head: ref(pr.head),
      merge_base: pr.headSha,
      due_date: null,
      created_at: iso(pr.createdAt),
      updated_at: iso(pr.updatedAt),
      closed_at: pr.closedAt === null ? null : iso(pr.closedAt),
      pin_order: 0,
    };
  }

  // GitLab shapes.

  private gitlabUser(login: string): Record<string, unknown> {
    const id = this.userId(login);
    return {
      id,
      username: login,
      name: login,
      state: 'active',
      locked: false,
      avatar_url: `${this.url}/uploads/-/system/user/avatar/${id}/avatar.png`,
      web_url: `${this.url}/${login}`,
    };
  }

  private projectJson(repo: Repo): unknown {
    const path = `${repo.owner}/${repo.name}`;
    const web = `${this.url}/${path}`;
    const api = `${this.apiUrl}/projects/${repo.id}`;
    return {
      id: repo.id,
      description: null,
      name: repo.name,
      name_with_namespace: `${repo.owner} / ${repo.name}`,
      path: repo.name,
      path_with_namespace: path,
      created_at: isoMs(repo.createdAt),
      default_branch: repo.defaultBranch,
      tag_list: [],
      topics: [],
      ssh_url_to_repo: `git@127.0.0.1:${path}.git`,
      http_url_to_repo: `${web}.git`,
      web_url: web,
      readme_url: `${web}/-/blob/${repo.defaultBranch}/README.md`,
      forks_count: 0,
      avatar_url: null,
      star_count: 0,
      last_activity_at: isoMs(repo.updatedAt),
      namespace: {
        id: this.userId(repo.owner),
        name: repo.owner,
        path: repo.owner.split('/').pop(),
        kind: repo.owner.includes('/') ? 'group' : 'user',
        full_path: repo.owner,
        parent_id: null,
        avatar_url: null,
        web_url: `${this.url}/${repo.owner}`,
      },
      _links: {
        self: api,
        issues: `${api}/issues`,
        merge_requests: `${api}/merge_requests`,
        repo_branches: `${api}/repository/branches`,
        labels: `${api}/labels`,
        events: `${api}/events`,
        members: `${api}/members`,
        cluster_agents: `${api}/cluster_agents`,
      },
      empty_repo: false,
      archived: false,
      visibility: 'public',
      issues_enabled: true,
      merge_requests_enabled: true,
      open_issues_count: repo.items.filter((i) => i.state === 'open').length,
      permissions: {
        project_access: { access_level: 40, notification_level: 3 },
        group_access: null,
      },
    };
  }

  private gitlabIssueJson(repo: Repo, item: Item): unknown {
    const web = `${this.url}/${repo.owner}/${repo.name}/-/issues/${item.number}`;
    const api = `${this.apiUrl}/projects/${repo.id}`;
    return {
      id: item.id,
      iid: item.number,
      project_id: repo.id,
      title: item.title,
      description: item.body === '' ? null : item.body,
      state: item.state === 'open' ? 'opened' : 'closed',
      created_at: isoMs(item.createdAt),
      updated_at: isoMs(item.updatedAt),
      closed_at: item.closedAt === null ? null : isoMs(item.closedAt),
      closed_by: item.closedAt === null ? null : this.gitlabUser(this.login),
      labels: item.labels,
      milestone: null,
      assignees: [],
      author: this.gitlabUser(item.author),
      type: 'ISSUE',
      assignee: null,
      user_notes_count: repo.notes.filter((n) => n.number === item.number && !n.system).length,
      merge_requests_count: 0,
      upvotes: 0,
      downvotes: 0,
      due_date: null,
      confidential: false,
      discussion_locked: null,
      issue_type: 'issue',
      web_url: web,
      time_stats: {
        time_estimate: 0,
        total_time_spent: 0,
        human_time_estimate: null,
        human_total_time_spent: null,
      },
      task_completion_status: { count: 0, completed_count: 0 },
      has_tasks: true,
      task_status: '',
      _links: {
        self: `${api}/issues/${item.number}`,
        notes: `${api}/issues/${item.number}/notes`,
        award_emoji: `${api}/issues/${item.number}/award_emoji`,
        project: api,
        closed_as_duplicate_of: null,
      },
      references: {
        short: `#${item.number}`,
        relative: `#${item.number}`,
        full: `${repo.owner}/${repo.name}#${item.number}`,
      },
      severity: 'UNKNOWN',
      moved_to_id: null,
      imported: false,
      imported_from: 'none',
      service_desk_reply_to: null,
    };
  }

  private noteJson(repo: Repo, item: Item, note: Note): unknown {
    return {
      id: note.id,
      type: null,
      body: note.body,
      attachment: null,
      author: this.gitlabUser(note.author),
      created_at: isoMs(note.createdAt),
      updated_at: isoMs(note.updatedAt),
      system: note.system,
      noteable_id: item.id,
      noteable_type: 'Issue',
      project_id: repo.id,
      resolvable: false,
      confidential: false,
      internal: false,
      imported: false,
      imported_from: 'none',
      noteable_iid: item.number,
      commands_changes: {},
    };
  }

  private mergeRequestJson(repo: Repo, mr: Item): unknown {
    const web = `${this.url}/${repo.owner}/${repo.name}/-/merge_requests/${mr.number}`;
    return {
      id: mr.id,
      iid: mr.number,
      project_id: repo.id,
      title: mr.title,
      description: mr.body === '' ? null : mr.body,
      state: gitlabMrState(mr),
      created_at: isoMs(mr.createdAt),
      updated_at: isoMs(mr.updatedAt),
      merged_by: mr.merged ? this.gitlabUser(this.login) : null,
      merge_user: mr.merged ? this.gitlabUser(this.login) : null,
      merged_at: mr.mergedAt === null ? null : isoMs(mr.mergedAt),
      closed_by: mr.closedAt !== null && !mr.merged ? this.gitlabUser(this.login) : null,
      closed_at: mr.closedAt !== null && !mr.merged ? isoMs(mr.closedAt) : null,
      target_branch: mr.base,
      source_branch: mr.head,
      user_notes_count: 0,
      upvotes: 0,
      downvotes: 0,
      author: this.gitlabUser(mr.author),
      assignees: [],
      assignee: null,
      reviewers: [],
      source_project_id: repo.id,
      target_project_id: repo.id,
      labels: mr.labels,
      draft: false,
      work_in_progress: false,
      milestone: null,
      merge_when_pipeline_succeeds: false,
      merge_status: 'can_be_merged',
      detailed_merge_status:
        mr.state !== 'open' ? 'not_open' : mr.mergeable ? 'mergeable' : 'not_approved',
      sha: mr.headSha,
      merge_commit_sha: mr.merged ? mr.headSha : null,
      squash_commit_sha: null,
      discussion_locked: null,
      should_remove_source_branch: null,
      force_remove_source_branch: false,
      prepared_at: isoMs(mr.createdAt),
      reference: `!${mr.number}`,
      references: {
        short: `!${mr.number}`,
        relative: `!${mr.number}`,
        full: `${repo.owner}/${repo.name}!${mr.number}`,
      },
      web_url: web,
      time_stats: {
        time_estimate: 0,
        total_time_spent: 0,
        human_time_estimate: null,
        human_total_time_spent: null,
      },
      squash: false,
      squash_on_merge: false,
      task_completion_status: { count: 0, completed_count: 0 },
      has_conflicts: false,
      blocking_discussions_resolved: true,
    };
  }
}

function gitlabMrState(mr: Item): string {
  return mr.merged ? 'merged' : mr.state === 'open' ? 'opened' : 'closed';
}

/** `group/sub/project` → (`group/sub`, `project`); a numeric id is not modelled. */
function splitProjectPath(id: string): [string, string] {
  const slash = id.lastIndexOf('/');
  return slash === -1 ? ['', id] : [id.slice(0, slash), id.slice(slash + 1)];
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}_${Buffer.from(`fake:${id}`).toString('base64url')}`;
}

function labelId(name: string): number {
  return createHash('sha1').update(name).digest().readUInt32BE(0);
}

function reactions(url: string): Record<string, unknown> {
  return {
    url,
    total_count: 0,
    '+1': 0,
    '-1': 0,
    laugh: 0,
    hooray: 0,
    confused: 0,
    heart: 0,
    rocket: 0,
    eyes: 0,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
