/**
 * The web dashboard in a real headless browser against a real daemon running scripted agents:
 * logging in (token and login link), the board updating live, stopping, destroying with a
 * confirmation, allowing an approval, hostile strings shown as text, and a phone's screen.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session, Task } from '../core/domain.js';
import { daemonWithApi, type ApiClient } from './helpers/api-client.js';
import { ARTIFACTS, launchBrowser } from './helpers/browser.js';
import { Sandbox, fixture } from './helpers/sandbox.js';

// The message picks the script: "hang" never ends, "ask" asks for approval, the rest commit.
const AGENT = `case "$KUGETSU_MESSAGE" in
  *hang*) echo started; exec sleep 1000;;
  *ask*) exec ${fixture('ask-agent.sh')};;
  *) exec ${fixture('echo-agent.sh')};;
esac`;
const HOSTILE = '<img src=x onerror=alert(1)>';

describe('web dashboard in a browser', () => {
  let sb: Sandbox;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  const alerts: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: AGENT, KUGETSU_DEFAULT_REPO: 'local/me/app' });
    await sb.setup();
    [api, browser] = await Promise.all([daemonWithApi(sb), launchBrowser()]);
    page = await browser.newPage();
    // The page must work within its own Content-Security-Policy: a blocked script or style
    // is a bug the eye might miss.
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) violations.push(m.text());
    });
    page.on('dialog', (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });
  });
  afterAll(async () => {
    await browser?.close();
    await sb.cleanup();
  });

  const column = (name: string, id: number) =>
    page.locator(`[data-column="${name}"] [data-task="${id}"]`);
  const dialog = () => page.locator('dialog[open]');
  const taskState = async (id: number) =>
    (await api.get<{ task: Task }>(`/api/v1/tasks/${id}`)).body.task.state;

  it('serves the page without a token in it, under a strict Content-Security-Policy', async () => {
    for (const path of ['/', '/dashboard/main.js', '/dashboard/style.css']) {
      const res = await fetch(`${api.base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).not.toContain(api.token ?? '?');
    }
    expect((await fetch(`${api.base}/dashboard/nope.js`)).status).toBe(404);
    expect((await fetch(`${api.base}/dashboard/..%2Fpackage.json`)).status).toBe(404);
  });

  it('logs in with a pasted token, kept across a reload; a wrong one is refused', async () => {
    await page.goto(api.base);
    await page.fill('input[name=token]', 'not-a-token');
    await page.click('form.login button[type=submit]');
    await page.locator('form.login .error').waitFor();
    expect(await page.locator('form.login .error').textContent()).toContain('refused');

    await page.fill('input[name=token]', api.token ?? '');
    await page.click('form.login button[type=submit]');
    await page.locator('[data-column="Running"]').waitFor();
    await page.reload();
    await page.locator('[data-column="Running"]').waitFor();
    await page.locator('#live[data-state="live"]').waitFor();
  });

  it('logs in with a one-time login link, which then leaves the address bar', async () => {
    const { url } = await sb.json<{ url: string }>(['api', 'login-link', '--url', api.base]);
    const other = await browser.newPage();
    await other.goto(url);
    await other.locator('[data-column="Running"]').waitFor();
    expect(other.url()).toBe(`${api.base}/#/board`);
    expect(await other.evaluate(`localStorage.getItem('kugetsu.token')`)).toMatch(/\S{20}/);
    // The code is spent: the same link in a fresh browser is refused.
    const again = await (await browser.newContext()).newPage();
    await again.goto(url);
    await again.locator('form.login .error').waitFor();
    expect(await again.locator('form.login .error').textContent()).toContain('login link');
    await other.close();
    await again.close();
  });

  it('offers a read-only token no action, and still shows the board', async () => {
    const id = (
      await api.post<{ taskId: number }>('/api/v1/tasks', { message: 'quick work on #31' })
    ).body.taskId;
    const { url } = await sb.json<{ url: string }>([
      'api',
      'login-link',
      '--read-only',
      '--url',
      api.base,
    ]);
    const reader = await (await browser.newContext()).newPage();
    await reader.goto(url);
    await reader.locator(`[data-task="${id}"]`).first().waitFor();
    expect(await reader.locator('#nav .badge').textContent()).toBe('read-only');
    // Every button that would change something is hidden; reading ones stay.
    const shown = async (name: string) => reader.getByRole('button', { name }).count();
    expect(await shown('Delegate…')).toBe(0);
    await reader.goto(`${api.base}/#/sessions`);
    await reader.locator('[data-view="sessions"] section').first().waitFor();
    expect(await shown('Destroy…')).toBe(0);
    expect(await shown('Prune…')).toBe(0);
    await reader.goto(`${api.base}/#/home`);
    await reader.getByRole('button', { name: 'Run doctor' }).waitFor();
    expect(await shown('Mark all read')).toBe(0);
    // The same page with a full token offers them.
    await page.goto(`${api.base}/#/board`);
    await page.getByRole('button', { name: 'Delegate…' }).waitFor();
    await reader.close();
  });

  it('shows tasks appear and complete live, without a reload', async () => {
    await page.goto(`${api.base}/#/board`);
    await page.locator('#live[data-state="live"]').waitFor();
    // Page code runs as strings: the tests are typed for Node, without the DOM's names.
    await page.evaluate('window.marker = 1');
    // Delegated from the dashboard's own dialog …
    await page.click('button:text("Delegate…")');
    await dialog().locator('textarea[name=message]').fill('work on #1');
    await dialog().locator('button[type=submit]').click();
    await page
      .locator('#flash')
      .getByText(/queued task #\d+/)
      .waitFor();
    const first = Number(/#(\d+)/.exec((await page.locator('#flash').textContent()) ?? '')?.[1]);
    await column('Finished', first).locator('.badge.completed').waitFor({ timeout: 60_000 });
    // … and from the CLI, which the page hears of only through the event stream.
    const second = (await sb.json<{ taskId: number }>(['delegate', 'work on #4'])).taskId;
    await column('Finished', second).locator('.badge.completed').waitFor({ timeout: 60_000 });
    expect(await taskState(second)).toBe('completed');
    expect(await page.evaluate('window.marker')).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-board.png'), fullPage: true });
  });

  it('stops a running task after a confirmation', async () => {
    const id = await sb.startDetached(['start', 'local/me/app#2', 'hang around']);
    const card = column('Running', id);
    await card.locator('.last-line', { hasText: 'started' }).waitFor({ timeout: 60_000 });
    await card.locator('button:text("Stop")').click();
    await dialog().locator('button[type=submit]').click();
    await column('Finished', id).locator('.badge.cancelled').waitFor({ timeout: 60_000 });
    expect(await taskState(id)).toBe('cancelled');
  });

  it('destroys a session only once the confirmation is accepted', async () => {
    const sessions = async () =>
      (await api.get<{ sessions: Session[] }>('/api/v1/sessions?all=true')).body.sessions.map(
        (s) => s.issueRef,
      );
    expect(await sessions()).toContain('local/me/app#1');
    await page.click('#nav a:text("Sessions")');
    const card = page.locator('[data-session="local/me/app#1"]');
    await card.locator('button:text("Destroy…")').click();
    await dialog().waitFor();
    expect(await dialog().textContent()).toContain('Destroy local/me/app#1?');
    await dialog().locator('button:text("Cancel")').click();
    expect(await dialog().count()).toBe(0);
    expect(await sessions()).toContain('local/me/app#1');

    await card.locator('button:text("Destroy…")').click();
    await dialog().locator('button[type=submit]').click();
    await page.locator('#flash').getByText('destroyed local/me/app#1').waitFor();
    await card.waitFor({ state: 'detached' });
    expect(await sessions()).not.toContain('local/me/app#1');
  });

  it('allows an approval and denies a question, and the agent goes on', async () => {
    const id = await sb.startDetached(['start', 'local/me/app#5', 'ask first']);
    await page.click('#nav a:text("Approvals")');
    const card = page.locator('[data-approval]', { hasText: 'deploy --prod' });
    await card.waitFor({ timeout: 60_000 });
    await card.locator('button:text("Allow once")').click();
    await dialog().locator('button[type=submit]').click();
    await page
      .locator('#flash')
      .getByText(/allow #\d+: done/)
      .waitFor();
    // Then the agent asks its question: the permission was allowed, so it is deploying.
    await page
      .locator('[data-approval]', { hasText: 'Which colour?' })
      .waitFor({ timeout: 60_000 });
    const question = page.locator('[data-approval]', { hasText: 'Which colour?' });
    await question.locator('button:text("Deny…")').click();
    await dialog().locator('input[name=message]').fill('no colours today');
    await dialog().locator('button[type=submit]').click();
    await question.waitFor({ state: 'detached' });
    expect((await sb.finished(id)).state).toBe('completed');
    const { runs } = (await api.get<{ runs: { lines: string[] }[] }>(`/api/v1/tasks/${id}`)).body;
    expect(runs.flatMap((r) => r.lines)).toEqual(
      expect.arrayContaining(['deploying', 'colour: (no answer)']),
    );
  });

  it('shows a hostile title and transcript line as text', async () => {
    const id = (await sb.json<{ taskId: number }>(['delegate', `fix #6 ${HOSTILE}`])).taskId;
    await page.goto(`${api.base}/#/board`);
    await column('Finished', id).waitFor({ timeout: 60_000 });
    expect(await column('Finished', id).locator('.message').textContent()).toContain(HOSTILE);
    await page.goto(`${api.base}/#/task/${id}`);
    const transcript = page.locator(`[data-transcript="${id}"]`);
    await transcript.getByText(`env message: fix #6 ${HOSTILE}`).waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    expect(alerts).toEqual([]);
    expect(violations).toEqual([]);
  });

  it('fits the board on a phone screen without sideways scrolling', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(api.base);
    await phone.evaluate(`localStorage.setItem('kugetsu.token', ${JSON.stringify(api.token)})`);
    await phone.reload();
    await phone.locator('[data-column="Finished"] [data-task]').first().waitFor();
    const widths = await phone.evaluate<{ page: number; screen: number }>(
      '({ page: document.documentElement.scrollWidth, screen: window.innerWidth })',
    );
    expect(widths.screen).toBe(390);
    expect(widths.page).toBeLessThanOrEqual(widths.screen);
    await phone.screenshot({ path: join(ARTIFACTS, 'dashboard-board-phone.png'), fullPage: true });
    await phone.close();
  });

  it('shows sessions, a task page, usage and home; marks notifications read; runs doctor', async () => {
    await page.goto(`${api.base}/#/sessions`);
    const session = page.locator('[data-session="local/me/app#4"]');
    await session.waitFor();
    expect(await session.textContent()).toContain('kugetsu/local-me-app-4');
    expect(await session.locator('.outcome').textContent()).toContain('1 file changed');

    await session.locator('.outcome a').click();
    await page.getByText('Attempts (1 of').waitFor();
    await page.locator('[data-transcript]').getByText('env message: work on #4').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task.png'), fullPage: true });

    // The command agent reports no usage: its run is given some, as an agent's report would.
    const taskId = Number(/#\/task\/(\d+)$/.exec(page.url())?.[1]);
    const [run] = await sb.store().runs.list(taskId);
    if (run === undefined) throw new Error('no run');
    await sb.store().runs.recordUsage(run.id, {
      ...{ inputTokens: 1200, outputTokens: 345, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0.25,
    });
    await page.click('#nav a:text("Usage")');
    await page.getByText('1,545 tokens · $0.25').first().waitFor();
    // One bar per chart (tokens, cost): one day, one agent.
    expect(await page.locator('svg.chart rect').count()).toBe(2);
    expect(await page.locator('svg.chart title').allTextContents()).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d command: 1,545 tokens$/),
      expect.stringMatching(/^\d{4}-\d\d-\d\d command: \$0\.25$/),
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-usage.png'), fullPage: true });
    await page.getByText('Latest attempts').waitFor();
    expect(await page.locator('main table').last().textContent()).toContain('local/me/app#4');

    await page.click('#nav a:text("Home")');
    await page.locator('[data-status]').waitFor();
    expect(await page.locator('main').textContent()).toContain(sb.serverUrl);
    expect(
      (await api.get<{ events: unknown[] }>('/api/v1/events')).body.events.length,
    ).toBeGreaterThan(0);
    await page.click('button:text("Mark all read")');
    await page
      .locator('#flash')
      .getByText(/^\d+ marked read$/)
      .waitFor();
    expect((await api.get<{ events: unknown[] }>('/api/v1/events')).body.events).toEqual([]);
    await page.click('button:text("Run doctor")');
    await page.locator('main th', { hasText: 'check' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-home.png'), fullPage: true });
  });

  it('shows the agents against the cap, and why a pending task waits', async () => {
    const stats = async () =>
      (await api.get<{ slotsHeld: number; maxConcurrentAgents: number }>('/api/v1/queue/stats'))
        .body;
    const { slotsHeld, maxConcurrentAgents: cap } = await stats();
    const ids: number[] = [];
    for (let n = 0; n <= cap - slotsHeld; n++)
      ids.push(await sb.startDetached(['start', `local/me/app#${10 + n}`, 'hang on']));
    await page.goto(`${api.base}/#/board`);
    await page.locator(`[data-cap="${cap}/${cap}"]`).waitFor({ timeout: 60_000 });
    const card = page.locator('[data-column="Pending"] [data-task]').first();
    await card.waitFor();
    const id = Number(await card.getAttribute('data-task'));
    expect(ids).toContain(id);
    const task = (await api.get<{ task: Task }>(`/api/v1/tasks/${id}`)).body.task;
    expect(await card.locator('.reason').textContent()).toBe(
      task.waitReason ?? 'waiting for the daemon to pick it up',
    );
    for (const each of ids) await api.post(`/api/v1/tasks/${each}/cancel`);
    for (const each of ids) expect((await sb.finished(each)).state).toBe('cancelled');
  });

  it('continues a session from its card, then prunes what a dry run named', async () => {
    await page.goto(`${api.base}/#/sessions`);
    const card = page.locator('[data-session="local/me/app#4"]');
    await card.locator('button:text("Continue…")').click();
    expect(await dialog().locator('input[name=ref]').inputValue()).toBe('local/me/app#4');
    await dialog().locator('textarea[name=message]').fill('and the docs');
    await dialog().locator('button[type=submit]').click();
    await page
      .locator('#flash')
      .getByText(/^queued task #\d+$/)
      .waitFor();
    const id = Number(/#(\d+)/.exec((await page.locator('#flash').textContent()) ?? '')?.[1]);
    const task = await sb.finished(id);
    expect([task.mode, task.issueRef, task.state]).toEqual([
      'continue',
      'local/me/app#4',
      'completed',
    ]);

    const plan = (await api.post<{ pruned: string[] }>('/api/v1/sessions/prune', { dryRun: true }))
      .body.pruned;
    expect(plan).toContain('local/me/app#4');
    await page.click('button:text("Prune…")');
    await dialog().locator('button[type=submit]').click();
    await page
      .locator('dialog[open] h3', { hasText: `Prune ${plan.length} session(s)?` })
      .waitFor();
    expect(await dialog().locator('.detail').textContent()).toBe(plan.join(', '));
    await dialog().locator('button[type=submit]').click();
    await page.locator('#flash').getByText(`pruned ${plan.length},`).waitFor();
    const left = (await api.get<{ sessions: Session[] }>('/api/v1/sessions?all=true')).body;
    expect(left.sessions.map((s) => s.issueRef)).not.toContain('local/me/app#4');
  });

  it('clears finished tasks after a confirmation', async () => {
    await page.goto(`${api.base}/#/board`);
    await page.locator('[data-column="Finished"] [data-task]').first().waitFor();
    await page.click('button:text("Clear finished…")');
    await dialog().locator('button[type=submit]').click();
    await page
      .locator('#flash')
      .getByText(/^removed [1-9]\d*, cancelled 0$/)
      .waitFor();
    await page
      .locator('[data-column="Finished"] [data-task]')
      .first()
      .waitFor({ state: 'detached' });
  });
});
