/**
 * One conformance suite for the three forge clients: each real `ForgeApi` against the fake of
 * its kind, through its base URL, plus real `git clone` / `git push` over the fake's smart HTTP.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from '../core/domain.js';
import type { ForgeApi } from '../core/forges/forge-api.js';
import { forgeApiFor } from '../core/forges/forge-client.js';
import { ForgeError } from '../core/forges/forge-errors.js';
import { FakeForge, type FakeForgeKind } from './helpers/fake-forge.js';

const run = promisify(execFile);

const TOKEN = 'fake-SECRET-token-0123456789abcdef';
const WRONG = 'wrong-SECRET-token-fedcba9876543210';

/** The settings a clean git needs: no user config, no prompts, a fixed identity. */
function gitEnv(token: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}

async function git(cwd: string, args: string[], token = TOKEN): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: gitEnv(token) });
  return stdout.trim();
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<ForgeError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ForgeError);
    return err as ForgeError;
  }
  throw new Error('expected the call to fail');
}

describe.each<FakeForgeKind>(['github', 'gitea', 'gitlab'])('%s client', (kind) => {
  // GitLab paths may nest groups; the client must keep `team/sub/app` one project id.
  const owner = kind === 'gitlab' ? 'team/sub' : 'me';
  const repo = 'app';
  let forge: FakeForge;
  let server: Server;
  let api: ForgeApi;
  let work: string;

  beforeAll(async () => {
    forge = await FakeForge.start({ kind, token: TOKEN });
    await forge.addRepo(owner, repo, { defaultBranch: 'trunk', files: { 'README.md': 'hi\n' } });
    server = {
      name: 'fake',
      kind,
      url: forge.url,
      host: '127.0.0.1',
      apiUrl: forge.apiUrl,
      tokenEnv: 'FAKE_FORGE_TOKEN',
      isDefault: false,
    };
    api = forgeApiFor(server, TOKEN);
    work = await mkdtemp(join(tmpdir(), `kugetsu-forge-${kind}-`));
  });

  afterAll(async () => {
    await forge?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Clones, commits one file on `branch` and pushes it through the fake; returns the sha. */
  async function pushBranch(branch: string, token = TOKEN): Promise<string> {
    const dir = await mkdtemp(join(work, 'clone-'));
    await git(work, ['clone', '--quiet', `${forge.url}/${owner}/${repo}.git`, dir]);
    await git(dir, ['checkout', '--quiet', '-b', branch]);
    await writeFile(join(dir, `${branch.replace(/\W/g, '-')}.txt`), `${branch}\n`);
    await git(dir, ['add', '-A']);
    await git(dir, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', `work on ${branch}`]);
    await git(dir, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], token);
    return git(dir, ['rev-parse', 'HEAD']);
  }

  it('reports who the token belongs to, with scopes where the forge has them', async () => {
    const me = await api.whoami();
    expect(me.login).toBe('kugetsu-bot');
    expect(me.scopes).toEqual({ github: ['repo'], gitea: null, gitlab: ['api'] }[kind]);
  });

  it('reads the repository: default branch and web page', async () => {
    expect(await api.repo(owner, repo)).toEqual({
      defaultBranch: 'trunk',
      url: `${forge.url}/${owner}/${repo}`,
    });
  });

  it('reads an issue and all its comments across pages, oldest first', async () => {
    const number = forge.addIssue(owner, repo, {
      title: 'Fix the login',
      body: 'It breaks on Tuesdays',
      labels: ['bug'],
      author: 'carol',
    });
    for (let i = 0; i < 120; i++) forge.addComment(owner, repo, number, `comment ${i}`, 'dave');
    const issue = await api.issue(owner, repo, number);
    expect(issue).toMatchObject({
      number,
      title: 'Fix the login',
      body: 'It breaks on Tuesdays',
      state: 'open',
      labels: ['bug'],
      author: 'carol',
    });
    expect(issue.url).toContain(`/${owner}/${repo}/`);
    expect(issue.updatedAt).toBeGreaterThan(Date.now() - 60_000);

    const before = forge.requests.length;
    const comments = await api.issueComments(owner, repo, number);
    expect(comments.map((c) => c.body)).toEqual(
      Array.from({ length: 120 }, (_, i) => `comment ${i}`),
    );
    expect(new Set(comments.map((c) => c.issueNumber))).toEqual(new Set([number]));
    expect(comments.every((c) => c.author === 'dave')).toBe(true);
    const pages = forge.requests.slice(before).filter((r) => r.method === 'GET');
    // Gitea answers an issue's comments unpaginated; GitHub and GitLab cap a page at 100.
    expect(pages).toHaveLength(kind === 'gitea' ? 1 : 2);
    if (kind === 'gitlab') {
      // The label's system note is on the forge but not among the comments.
      expect(forge.comments(owner, repo, number).filter((c) => c.system)).toHaveLength(1);
    }
  });

  it('creates a comment', async () => {
    const number = forge.addIssue(owner, repo, { title: 'Comment here', body: '' });
    const comment = await api.createIssueComment(owner, repo, number, 'On it: `kugetsu/x`');
    expect(comment).toMatchObject({
      issueNumber: number,
      author: 'kugetsu-bot',
      body: 'On it: `kugetsu/x`',
    });
    expect(comment.url).toContain(String(comment.id));
    const stored = forge.comments(owner, repo, number).filter((c) => !c.system);
    expect(stored.map((c) => [c.id, c.body])).toEqual([[comment.id, 'On it: `kugetsu/x`']]);
  });

  it('finds, creates, updates and follows a pull request to merged', async () => {
    const branch = 'kugetsu/fake-app-7';
    await pushBranch(branch);
    expect(await api.findPullRequest(owner, repo, branch)).toBeNull();

    const created = await api.createPullRequest(owner, repo, {
      head: branch,
      base: 'trunk',
      title: 'Fix #7',
      body: 'Closes #7',
    });
    expect(created).toMatchObject({ state: 'open', head: branch, base: 'trunk', title: 'Fix #7' });
    expect(created.body).toBe('Closes #7');
    expect(forge.pullRequests(owner, repo).map((p) => p.number)).toEqual([created.number]);
    expect(await api.findPullRequest(owner, repo, branch)).toEqual(created);
    expect(await api.findPullRequest(owner, repo, 'kugetsu/other')).toBeNull();

    const updated = await api.updatePullRequest(owner, repo, created.number, {
      title: 'Fix #7 (v2)',
      body: 'Closes #7, now with tests',
    });
    expect(updated).toMatchObject({ number: created.number, title: 'Fix #7 (v2)', state: 'open' });
    expect(forge.pullRequests(owner, repo)[0]).toMatchObject({
      title: 'Fix #7 (v2)',
      body: 'Closes #7, now with tests',
    });

    const duplicate = await rejection(
      api.createPullRequest(owner, repo, { head: branch, base: 'trunk', title: 'x', body: '' }),
    );
    expect(duplicate.status).toBe(kind === 'github' ? 422 : 409);
    expect(duplicate.message).toMatch(/already exists/i);
    expect(duplicate.message).not.toContain('\n');

    const missing = await rejection(
      api.createPullRequest(owner, repo, { head: 'no-such', base: 'trunk', title: 'x', body: '' }),
    );
    expect(missing.status).toBe({ github: 422, gitea: 404, gitlab: 400 }[kind]);

    forge.mergePullRequest(owner, repo, created.number);
    expect((await api.pullRequest(owner, repo, created.number)).state).toBe('merged');
    expect((await api.findPullRequest(owner, repo, branch))?.state).toBe('merged');
  });

  it('finds a closed pull request as closed, and the newest one first', async () => {
    const branch = 'kugetsu/fake-app-8';
    await pushBranch(branch);
    const first = await api.createPullRequest(owner, repo, {
      head: branch,
      base: 'trunk',
      title: 'one',
      body: '',
    });
    forge.closePullRequest(owner, repo, first.number);
    expect((await api.pullRequest(owner, repo, first.number)).state).toBe('closed');
    const second = await api.createPullRequest(owner, repo, {
      head: branch,
      base: 'trunk',
      title: 'two',
      body: '',
    });
    expect(second.number).toBeGreaterThan(first.number);
    expect(await api.findPullRequest(owner, repo, branch)).toMatchObject({
      number: second.number,
      state: 'open',
    });
  });

  it('lists open labelled issues, answers 304 when nothing changed, fresh data after', async () => {
    const label = 'kugetsu';
    const a = forge.addIssue(owner, repo, { title: 'a', body: '', labels: [label] });
    const b = forge.addIssue(owner, repo, { title: 'b', body: '', labels: [label, 'x'] });
    forge.addIssue(owner, repo, { title: 'unlabelled', body: '' });
    const closed = forge.addIssue(owner, repo, { title: 'c', body: '', labels: [label] });
    forge.closeIssue(owner, repo, closed);
    if (kind !== 'gitlab') {
      // GitHub lists pull requests among issues; the client must drop them.
      const pr = forge.pullRequests(owner, repo).find((p) => p.state === 'open');
      if (!pr) throw new Error('an open pull request is needed here');
      forge.labelPullRequest(owner, repo, pr.number, label);
    }

    const first = await api.openIssuesWithLabel(owner, repo, label, {});
    if (first.notModified) throw new Error('first call cannot be a 304');
    expect(first.items.map((i) => i.number).sort((x, y) => x - y)).toEqual([a, b]);
    expect(first.items.every((i) => i.state === 'open' && i.labels.includes(label))).toBe(true);
    expect(first.etag).toBeTruthy();

    const again = await api.openIssuesWithLabel(owner, repo, label, { etag: first.etag });
    expect(again.notModified).toBe(true);
    expect(forge.requests.at(-1)?.status).toBe(304);
    const byDate = await api.openIssuesWithLabel(owner, repo, label, {
      lastModified: first.lastModified,
    });
    expect(byDate.notModified).toBe(true);

    const c = forge.addIssue(owner, repo, { title: 'new', body: '', labels: [label] });
    const fresh = await api.openIssuesWithLabel(owner, repo, label, { etag: first.etag });
    if (fresh.notModified) throw new Error('a new issue must change the list');
    expect(fresh.items.map((i) => i.number).sort((x, y) => x - y)).toEqual([a, b, c]);
    expect(fresh.etag).not.toBe(first.etag);
  });

  it('lists repository comments since a time, across pages, and conditionally', async () => {
    const all = await api.repoCommentsSince(owner, repo, 0, {});
    if (all.notModified) throw new Error('first call cannot be a 304');
    expect(all.items.length).toBeGreaterThanOrEqual(121);
    const times = all.items.map((c) => c.createdAt);
    expect(times).toEqual([...times].sort((x, y) => x - y));

    // GitHub and Gitea report whole seconds: the next comment must fall in a later second.
    const since = Math.floor(Math.max(...times) / 1000) * 1000 + 1000;
    await delay(Math.max(0, since - Date.now()));
    const target = forge.addIssue(owner, repo, { title: 'later', body: '' });
    const id = forge.addComment(owner, repo, target, 'a new comment', 'erin');
    const recent = await api.repoCommentsSince(owner, repo, since, {});
    if (recent.notModified) throw new Error('expected comments');
    expect(recent.items.map((c) => [c.id, c.issueNumber, c.author, c.body])).toEqual([
      [id, target, 'erin', 'a new comment'],
    ]);

    const unchanged = await api.repoCommentsSince(owner, repo, since, { etag: recent.etag });
    expect(unchanged.notModified).toBe(true);
  });

  it('names the server and the status on a wrong token, never the token', async () => {
    const wrong = forgeApiFor(server, WRONG);
    const err = await rejection(wrong.issue(owner, repo, 1));
    expect(err.status).toBe(401);
    expect(err.message).toMatch(new RegExp(`^forge fake \\(${kind}\\): GET /\\S+ failed: 401 `));
    expect(err.message).toContain('FAKE_FORGE_TOKEN');
    expect(err.message).not.toContain(WRONG);
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain('\n');
    expect((await rejection(forgeApiFor(server, null).whoami())).status).toBe(401);
  });

  it('answers 404 for an unknown repository, with a hint', async () => {
    const err = await rejection(api.repo(owner, 'nope'));
    expect(err.status).toBe(404);
    expect(err.message).toContain('not found (or the token cannot see it)');
    expect(err.message).toContain('fake');
  });

  it('says in one line when the server cannot be reached', async () => {
    const port = await closedPort();
    const down = forgeApiFor({ ...server, apiUrl: `http://127.0.0.1:${port}` }, TOKEN);
    const err = await rejection(down.whoami());
    expect(err.status).toBeNull();
    expect(err.message).toBe(
      `forge fake (${kind}): GET /user failed: cannot connect to http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    // fetch will not even try port 9 (a WHATWG "bad port"); that must read as clearly.
    const blocked = forgeApiFor({ ...server, apiUrl: 'http://127.0.0.1:9' }, TOKEN);
    expect((await rejection(blocked.whoami())).message).toBe(
      `forge fake (${kind}): GET /user failed: cannot connect to http://127.0.0.1:9 (port 9 is blocked by fetch)`,
    );
  });

  it('gives up on a held request after the timeout', async () => {
    const held = forge.hold('GET', /\/user$/);
    try {
      const slow = forgeApiFor(server, TOKEN, { timeoutMs: 200 });
      const pending = rejection(slow.whoami());
      await held.arrived;
      const err = await pending;
      expect(err.status).toBeNull();
      expect(err.message).toBe(
        `forge fake (${kind}): GET /user failed: no answer from ${forge.url} within 200 ms`,
      );
    } finally {
      held.release();
    }
  });

  it('follows a redirect on the same host only, so the token stays with the forge', async () => {
    const seen: string[] = [];
    // A renamed repository answers 301 to its new address (GitHub does this for renames).
    const redirecting: typeof fetch = (input, init) => {
      const target =
        input instanceof URL ? input.href : typeof input === 'string' ? input : input.url;
      seen.push(target);
      if (target.endsWith('old-name')) {
        const headers = { Location: target.replace(/old-name$/, repo) };
        return Promise.resolve(new Response(null, { status: 301, headers }));
      }
      if (target.endsWith('moved-away')) {
        const headers = { Location: 'http://elsewhere.test/x' };
        return Promise.resolve(new Response(null, { status: 301, headers }));
      }
      return fetch(input, init);
    };
    const client = forgeApiFor(server, TOKEN, { fetch: redirecting });
    expect(await client.repo(owner, 'old-name')).toMatchObject({ defaultBranch: 'trunk' });
    expect(seen).toHaveLength(2);
    seen.length = 0;
    const err = await rejection(client.repo(owner, 'moved-away'));
    expect(err.status).toBe(301);
    expect(err.message).toContain('redirected to http://elsewhere.test, not followed');
    expect(seen).toHaveLength(1);
  });

  it('clones and pushes over smart HTTP with the token in a header', async () => {
    const sha = await pushBranch('kugetsu/pushed');
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await forge.branchHead(owner, repo, 'kugetsu/pushed')).toBe(sha);
    expect(await forge.branchHead(owner, repo, 'kugetsu/never')).toBeNull();
  });

  it('refuses a push with a wrong token', async () => {
    const dir = await mkdtemp(join(work, 'refused-'));
    await git(work, ['clone', '--quiet', `${forge.url}/${owner}/${repo}.git`, dir]);
    await git(dir, ['checkout', '--quiet', '-b', 'kugetsu/refused']);
    await writeFile(join(dir, 'x.txt'), 'x\n');
    await git(dir, ['add', '-A']);
    await git(dir, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'x']);
    const push = git(dir, ['push', 'origin', 'HEAD:refs/heads/kugetsu/refused'], WRONG);
    await expect(push).rejects.toThrow(/401|Authentication failed|could not read Username/);
    expect(await forge.branchHead(owner, repo, 'kugetsu/refused')).toBeNull();
    expect(forge.requests.some((r) => r.status === 401 && r.path.endsWith('/info/refs'))).toBe(
      true,
    );
    expect(JSON.stringify(forge.requests)).not.toContain(WRONG);
  });
});
