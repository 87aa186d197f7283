/**
 * The API's forge operations against a fake Gitea over real HTTP: merging a session's pull
 * request (and the forge's refusal), and intake's watched repositories, each answering what the
 * CLI's `--json` answers; and the dashboard's Merge button in a real browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session, Task } from '../core/domain.js';
import { daemonWithApi, type ApiClient } from './helpers/api-client.js';
import { launchBrowser } from './helpers/browser.js';
import { FakeForge } from './helpers/fake-forge.js';
import { Sandbox, fixture } from './helpers/sandbox.js';

const TOKEN = 'forge-secret-token-0a9d3c';

describe('HTTP API: merge and intake; merge from the dashboard', () => {
  let forge: FakeForge;
  let sb: Sandbox;
  let api: ApiClient;
  let host: string;

  beforeAll(async () => {
    forge = await FakeForge.start({ kind: 'gitea', token: TOKEN });
    await forge.addRepo('me', 'app', { files: { 'README.md': '# app\n' } });
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('forge-agent.sh'), FORGE_TOKEN: TOKEN });
    sb.env['FORGE_AGENT_DIR'] = sb.dir;
    await sb.ok(['init']);
    await sb.ok([
      'server',
      'add',
      'forge',
      forge.url,
      '--kind',
      'gitea',
      '--token-env',
      'FORGE_TOKEN',
    ]);
    host = new URL(forge.url).host;
    api = await daemonWithApi(sb);
  });
  afterAll(async () => {
    await sb.cleanup();
    await forge.close();
  });

  const completedPr = async (title: string) => {
    const issue = forge.addIssue('me', 'app', { title, body: '' });
    const ref = `${host}/me/app#${issue}`;
    const queued = await api.post<{ task: Task }>('/api/v1/tasks/start', { ref, message: title });
    expect((await sb.finished(queued.body.task.id)).state).toBe('completed');
    const { sessions } = (await api.get<{ sessions: Session[] }>('/api/v1/sessions?all=true')).body;
    const pr = sessions.find((s) => s.issueRef === ref)?.pullRequest;
    if (pr === undefined || pr === null) throw new Error(`no pull request for ${ref}`);
    return { ref, pr, taskId: queued.body.task.id };
  };

  it("merges a session's pull request, once; the CLI then agrees it is merged", async () => {
    const { ref, pr, taskId } = await completedPr('A change');
    const merged = await api.post('/api/v1/sessions/merge', { ref });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      issueRef: ref,
      already: false,
      pullRequest: { number: pr.number, state: 'merged' },
    });
    expect(await forge.fileAt('me', 'app', 'main', `change-${taskId}.txt`)).toBe(
      `change for task ${taskId}`,
    );
    const again = await api.post('/api/v1/sessions/merge', { ref });
    expect(again.body).toEqual(await sb.json(['merge', ref, '-y']));
    expect(again.body).toMatchObject({ already: true });
    expect(JSON.stringify(merged.body)).not.toContain(TOKEN);
  });

  it("refuses a merge the forge refuses with a 409 in the forge's words", async () => {
    const { ref, pr } = await completedPr('Another change');
    forge.setMergeable('me', 'app', pr.number, false);
    const refused = await api.post<{ code: string; detail: string }>('/api/v1/sessions/merge', {
      ref,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('conflict');
    expect(refused.body.detail).toMatch(
      new RegExp(`^pull request #${pr.number} cannot be merged: `),
    );
    const cli = await sb.cli(['merge', ref, '-y']);
    expect(cli.stderr).toBe(`kugetsu: ${refused.body.detail}\n`);
    const unknown = await api.post('/api/v1/sessions/merge', { ref: `${host}/me/app#999` });
    expect(unknown.status).toBe(404);
  });

  it('watches, lists, polls and unwatches a repository as `intake` does', async () => {
    const added = await api.post<{ repo: { repoPath: string; label: string; mention: string } }>(
      '/api/v1/intake/add',
      { repo: `${host}/me/app`, label: 'kugetsu', mention: 'bot' },
    );
    expect(added.status).toBe(200);
    expect(added.body.repo).toMatchObject({
      repoPath: 'me/app',
      label: 'kugetsu',
      mention: '@bot',
    });
    expect((await api.get('/api/v1/intake')).body).toEqual(await sb.json(['intake', 'list']));

    const labelled = forge.addIssue('me', 'app', {
      title: 'Queue me',
      body: 'b',
      labels: ['kugetsu'],
    });
    const polled = await api.post<{ polls: { repo: string; queued: Task[]; error: null }[] }>(
      '/api/v1/intake/poll',
    );
    expect(polled.body.polls).toHaveLength(1);
    expect(polled.body.polls[0]?.error).toBeNull();
    expect(polled.body.polls[0]?.queued.map((t) => t.issueRef)).toEqual([
      `${host}/me/app#${labelled}`,
    ]);

    const bad = await api.post<{ code: string }>('/api/v1/intake/add', {
      repo: 'me/app',
      label: 'a,b',
    });
    expect([bad.status, bad.body.code]).toEqual([400, 'invalid_request']);
    const removed = await api.post('/api/v1/intake/remove', { repo: `${host}/me/app` });
    expect(removed.body).toEqual({ removed: `${host}/me/app` });
    expect((await api.get('/api/v1/intake')).body).toEqual({ repos: [] });
    const again = await api.post<{ code: string }>('/api/v1/intake/remove', {
      repo: `${host}/me/app`,
    });
    expect([again.status, again.body.code]).toEqual([409, 'conflict']);
  });

  it('merges from the dashboard once its confirmation is accepted', async () => {
    const { ref, pr } = await completedPr('A third change');
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(api.base);
      await page.evaluate(`localStorage.setItem('kugetsu.token', ${JSON.stringify(api.token)})`);
      await page.goto(`${api.base}/#/sessions`);
      await page.reload();
      const card = page.locator(`[data-session="${ref}"]`);
      await card.locator('button:text("Merge…")').click();
      const dialog = page.locator('dialog[open]');
      expect(await dialog.locator('.detail').textContent()).toBe(pr.url);
      await dialog.locator('button:text("Cancel")').click();
      expect(forge.pullRequests('me', 'app').find((p) => p.number === pr.number)?.merged).toBe(
        false,
      );
      await card.locator('button:text("Merge…")').click();
      await dialog.locator('button[type=submit]').click();
      await page.locator('#flash').getByText(`pull request #${pr.number}: merged`).waitFor();
      expect(forge.pullRequests('me', 'app').find((p) => p.number === pr.number)?.merged).toBe(
        true,
      );
      await card.locator('button:text("Merge…")').waitFor({ state: 'detached' });
    } finally {
      await browser.close();
    }
  });
});
