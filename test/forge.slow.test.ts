/**
 * kugetsu against a fake forge of each kind, end to end: the issue's text into the prompt, the
 * agent's work pushed over real smart HTTP, one pull request and one comment per task, the PR
 * link in the completion event, PR tracking in list/prune/destroy, WORKFLOW.md templates and
 * hooks, a crash between push and pull request, a refused token, and intake.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KugetsuEvent, Session, Task } from '../core/domain.js';
import { FakeForge, type FakeForgeKind } from './helpers/fake-forge.js';
import { FakeTelegram } from './helpers/fake-telegram.js';
import { Sandbox, fixture, running } from './helpers/sandbox.js';

const TOKEN = 'forge-secret-token-4f1c9e';

interface World {
  forge: FakeForge;
  sb: Sandbox;
  /** `127.0.0.1:PORT`: refs are `HOST/me/app#N`. */
  host: string;
  prompts: string;
}

async function makeWorld(
  kind: FakeForgeKind,
  files: Record<string, string> = {},
  settings: Record<string, string> = {},
): Promise<World> {
  const forge = await FakeForge.start({ kind, token: TOKEN });
  await forge.addRepo('me', 'app', { files: { 'README.md': '# app\n', ...files } });
  const sb = new Sandbox({
    KUGETSU_AGENT_COMMAND: fixture('forge-agent.sh'),
    FORGE_TOKEN: TOKEN,
    ...settings,
  });
  const prompts = join(sb.dir, 'prompts');
  mkdirSync(prompts);
  sb.env['FORGE_AGENT_DIR'] = prompts;
  await sb.ok(['init']);
  await sb.ok(['server', 'add', 'forge', forge.url, '--kind', kind, '--token-env', 'FORGE_TOKEN']);
  return { forge, sb, host: new URL(forge.url).host, prompts };
}

/** A world for one test, torn down however the test ends. */
async function withWorld(
  kind: FakeForgeKind,
  options: { files?: Record<string, string>; settings?: Record<string, string> },
  test: (w: World) => Promise<void>,
): Promise<void> {
  const w = await makeWorld(kind, options.files, options.settings);
  try {
    await test(w);
  } finally {
    await w.sb.cleanup();
    await w.forge.close();
  }
}

function kugetsuComments(forge: FakeForge, number: number): string[] {
  return forge
    .comments('me', 'app', number)
    .map((c) => c.body)
    .filter((b) => b.includes('<!-- kugetsu'));
}

describe.each<FakeForgeKind>(['gitea', 'github', 'gitlab'])('hand-off on %s', (kind) => {
  let w: World;
  let issue: number;

  beforeAll(async () => {
    w = await makeWorld(kind);
    issue = w.forge.addIssue('me', 'app', {
      title: 'Login fails on Safari',
      body: 'Steps: open /login in Safari 17, press enter. Nothing happens.',
      labels: ['bug'],
      author: 'carol',
    });
    w.forge.addComment('me', 'app', issue, 'Also seen on iOS.', 'dave');
    w.forge.addComment('me', 'app', issue, 'Probably the form submit handler.', 'erin');
    await w.sb.ok(['daemon', 'start']);
  });
  afterAll(async () => {
    await w.sb.cleanup();
    await w.forge.close();
  });

  it('reads the issue into the prompt, pushes, opens one PR, comments once, and reports the link', async () => {
    const id = await w.sb.startDetached(['start', `${w.host}/me/app#${issue}`, 'please fix it']);
    const task = await w.sb.finished(id);
    expect(task.state).toBe('completed');

    const prompt = readFileSync(join(w.prompts, `prompt-${id}-1.txt`), 'utf8');
    expect(prompt).toContain('Login fails on Safari');
    expect(prompt).toContain('Steps: open /login in Safari 17');
    expect(prompt).toContain('Also seen on iOS.');
    expect(prompt).toContain('Probably the form submit handler.');
    expect(prompt).toContain('erin');
    expect(prompt).toContain('please fix it');
    // kugetsu's forge token is its own: the agent never sees it.
    expect(prompt).toContain('forge-token=absent');

    const branch = `kugetsu/${w.host.replace(/[^A-Za-z0-9._-]/g, '_')}-me-app-${issue}`;
    // The agent did not commit: kugetsu committed its leftovers, and pushed them.
    expect(await w.forge.branchHead('me', 'app', branch)).not.toBeNull();
    const prs = w.forge.pullRequests('me', 'app');
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ head: branch, base: 'main', state: 'open' });
    expect(prs[0]?.title).toContain('Login fails on Safari');
    expect(prs[0]?.body).toContain(`#${issue}`);

    const comments = kugetsuComments(w.forge, issue);
    expect(comments).toHaveLength(1);
    // The issue is read once: the hand-off reuses the title the prompt already had.
    const issueReads = w.forge.requests.filter(
      (r) => r.method === 'GET' && new RegExp(`/issues/${issue}$`).test(r.path),
    );
    expect(issueReads).toHaveLength(1);
    expect(task.result).toMatch(/pull request #\d+ opened/);
    const prUrl = /(https?:\/\/\S+)/.exec(task.result?.split(' · ').at(-1) ?? '')?.[1];
    expect(prUrl).toBeDefined();
    expect(comments[0]).toContain(prUrl);

    const { events } = await w.sb.json<{ events: KugetsuEvent[] }>(['notify', 'list', '--all']);
    const completed = events.find((e) => e.type === 'task_completed' && e.taskId === id);
    expect(completed?.message).toContain(prUrl);

    const { sessions } = await w.sb.json<{ sessions: Session[] }>(['list', '--all']);
    expect(sessions[0]?.pullRequest).toMatchObject({ url: prUrl, state: 'open' });

    const logs = await w.sb.ok(['logs', String(id)]);
    expect(logs).toContain(`read issue #${issue}`);
    expect(logs).not.toContain(TOKEN);
    // Nothing git keeps names the token: not the remote URL, not a credential.
    const repos = join(w.sb.home, 'repos');
    for (const mirror of readdirSync(repos)) {
      const config = readFileSync(join(repos, mirror, 'config'), 'utf8');
      expect(config).toContain(`url = ${w.forge.url}/me/app.git`);
      expect(config).not.toContain(TOKEN);
      expect(config).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    }
    expect(JSON.stringify(w.forge.requests)).not.toContain(TOKEN);
  });

  it('a continued session updates the same PR and comments once more', async () => {
    const id = await w.sb.startDetached([
      'continue',
      `${w.host}/me/app#${issue}`,
      'also cover iOS',
    ]);
    expect((await w.sb.finished(id)).state).toBe('completed');
    expect(w.forge.pullRequests('me', 'app')).toHaveLength(1);
    expect(kugetsuComments(w.forge, issue)).toHaveLength(2);
    // A continued session is not sent the issue again: the agent has it.
    const prompt = readFileSync(join(w.prompts, `prompt-${id}-1.txt`), 'utf8');
    expect(prompt).toBe('also cover iOSforge-token=absent\n');
  });

  it('destroy refuses while the PR is open; prune removes the session once it is merged', async () => {
    const ref = `${w.host}/me/app#${issue}`;
    const refused = await w.sb.cli(['destroy', ref, '-y']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/open pull request/);

    const kept = await w.sb.json<{ kept: { issueRef: string; reason: string }[] }>(['prune']);
    expect(kept.kept[0]?.reason).toMatch(/pull request #\d+ open/);

    const pr = w.forge.pullRequests('me', 'app')[0];
    if (pr === undefined) throw new Error('no pull request');
    w.forge.mergePullRequest('me', 'app', pr.number);
    const pruned = await w.sb.json<{ pruned: string[] }>(['prune']);
    expect(pruned.pruned).toEqual([`${w.host}/me/app#${issue}`]);
    const { sessions } = await w.sb.json<{ sessions: Session[] }>(['list', '--all']);
    expect(sessions).toEqual([]);
  });
});

describe('WORKFLOW.md and hooks (gitea)', () => {
  let w: World;

  const workflow = [
    '---',
    'hooks:',
    '  after_create: |',
    '    echo "after_create in $(basename "$PWD")" >> "$HOOK_LOG"',
    '    if [ -f "$HOOK_FAIL.create" ]; then echo "npm ERR! missing script" >&2; exit 1; fi',
    '  before_run: |',
    '    echo "before_run $KUGETSU_TASK_ID" >> "$HOOK_LOG"',
    '    if [ -f "$HOOK_FAIL" ]; then echo "dependencies missing" >&2; exit 3; fi',
    '  after_run: echo "after_run $KUGETSU_TASK_ID" >> "$HOOK_LOG"',
    '  before_remove: echo "before_remove" >> "$HOOK_LOG"',
    '  timeout_ms: 10000',
    '---',
    'Repository prompt for {{ issue.title }} (opened by {{ issue.author }}).',
    '{% for c in issue.comments %}- {{ c.author }} said: {{ c.body }}',
    '{% endfor %}Task: {{ message }}',
  ].join('\n');

  beforeAll(async () => {
    w = await makeWorld(
      'gitea',
      { '.kugetsu/WORKFLOW.md': workflow },
      { KUGETSU_MAX_ATTEMPTS: '2' },
    );
    w.sb.env['HOOK_LOG'] = join(w.sb.dir, 'hooks.log');
    w.sb.env['HOOK_FAIL'] = join(w.sb.dir, 'fail-before-run');
    await w.sb.ok(['daemon', 'start']);
  });
  afterAll(async () => {
    await w.sb.cleanup();
    await w.forge.close();
  });

  const hookLog = (): string[] =>
    readFileSync(join(w.sb.dir, 'hooks.log'), 'utf8').trim().split('\n');

  it("renders the repository's template and runs its hooks in order", async () => {
    const n = w.forge.addIssue('me', 'app', { title: 'Add dark mode', body: 'b', author: 'fay' });
    w.forge.addComment('me', 'app', n, 'Use CSS variables {{ message }}', 'gus');
    const id = await w.sb.startDetached(['start', `${w.host}/me/app#${n}`, 'go']);
    expect((await w.sb.finished(id)).state).toBe('completed');
    const prompt = readFileSync(join(w.prompts, `prompt-${id}-1.txt`), 'utf8');
    expect(prompt).toContain('Repository prompt for Add dark mode (opened by fay).');
    // Issue text is data: a template tag inside a comment stays literal.
    expect(prompt).toContain('- gus said: Use CSS variables {{ message }}');
    expect(prompt).toContain('Task: go');
    expect(hookLog()).toEqual([
      expect.stringMatching(/^after_create in .*-me-app-\d+$/) as unknown,
      `before_run ${id}`,
      `after_run ${id}`,
    ]);
    await w.sb.ok(['destroy', `${w.host}/me/app#${n}`, '-y', '--force']);
    expect(hookLog().at(-1)).toBe('before_remove');
  });

  /** Starts a task while `marker` makes a hook fail; the task ends in error after 2 attempts. */
  async function failedWhile(marker: string, title: string): Promise<{ n: number; task: Task }> {
    writeFileSync(marker, '');
    try {
      const n = w.forge.addIssue('me', 'app', { title, body: 'b' });
      const id = await w.sb.startDetached(['start', `${w.host}/me/app#${n}`, 'go']);
      const task = await w.sb.finished(id);
      expect(task.state).toBe('error');
      expect(task.attempts).toBe(2);
      return { n, task };
    } finally {
      rmSync(marker, { force: true });
    }
  }

  it('a failing after_create fails the attempt; the next attempt makes the worktree and runs it again', async () => {
    const { n, task } = await failedWhile(`${join(w.sb.dir, 'fail-before-run')}.create`, 'No deps');
    expect(task.lastError).toBe('after_create hook failed (exit 1): npm ERR! missing script');
    const created = hookLog().filter((l) => l.startsWith('after_create') && l.endsWith(`-${n}`));
    expect(created).toHaveLength(2);
    expect(await w.sb.ok(['logs', String(task.id)])).toContain('npm ERR! missing script');
  });

  it('a failing before_run fails the attempt with its output; the task ends after its attempts', async () => {
    const { task } = await failedWhile(join(w.sb.dir, 'fail-before-run'), 'Broken deps');
    expect(task.lastError).toBe('before_run hook failed (exit 3): dependencies missing');
    expect(await w.sb.ok(['logs', String(task.id)])).toContain('dependencies missing');
    expect(readdirSync(w.prompts).some((f) => f.startsWith(`prompt-${task.id}-`))).toBe(false);
  });
});

describe('a template with an unknown variable (gitlab)', () => {
  it('fails the task at once, naming the variable and its line, without starting the agent', async () => {
    const files = {
      '.kugetsu/WORKFLOW.md': 'Fix {{ issue.title }}\nAsked by {{ issue.reporter }}\n',
    };
    await withWorld('gitlab', { files }, async (w) => {
      const n = w.forge.addIssue('me', 'app', { title: 'T', body: 'b' });
      await w.sb.ok(['daemon', 'start']);
      const id = await w.sb.startDetached(['start', `${w.host}/me/app#${n}`, 'go']);
      const task = await w.sb.finished(id);
      expect(task.state).toBe('error');
      expect(task.attempts).toBe(1);
      expect(task.lastError).toMatch(
        /^\.kugetsu\/WORKFLOW\.md line 2: unknown variable issue\.reporter/,
      );
      expect(readdirSync(w.prompts)).toEqual([]);
    });
  });
});

describe('exactly once across a crash (github)', () => {
  let w: World;
  beforeEach(async () => {
    w = await makeWorld('github', {}, { FORGE_AGENT_COMMIT: '1' });
  });
  afterEach(async () => {
    await w.sb.cleanup();
    await w.forge.close();
  });

  it.each([
    ['while the PR is being opened', /\/repos\/me\/app\/pulls$/],
    ['while the issue comment is being written', /\/repos\/me\/app\/issues\/\d+\/comments$/],
  ])('kill -9 after the push, %s: restart leaves one PR and one comment', async (_, path) => {
    const n = w.forge.addIssue('me', 'app', { title: 'Crash me', body: 'b' });
    const held = w.forge.hold('POST', path);
    await w.sb.ok(['daemon', 'start']);
    const id = await w.sb.startDetached(['start', `${w.host}/me/app#${n}`, 'go']);
    await held.arrived;
    const { pid } = await w.sb.json<{ pid: number }>(['daemon', 'status']);
    process.kill(pid, 'SIGKILL');
    await w.sb.until('the daemon to die', () => !running(pid));
    // The request was sent: the forge carries it out though nobody hears its answer.
    const before = w.forge.requests.length;
    held.release();
    await w.sb.until('the forge to carry out the request', () =>
      w.forge.requests.length > before ? true : null,
    );

    await w.sb.ok(['daemon', 'start']);
    const task = await w.sb.finished(id);
    expect(task.state, task.lastError ?? '').toBe('completed');
    expect(w.forge.pullRequests('me', 'app')).toHaveLength(1);
    expect(kugetsuComments(w.forge, n)).toHaveLength(1);
    expect(task.result).toMatch(/pull request #\d+ updated/);
  });
});

describe('a refused token (gitea)', () => {
  it('doctor and the task name the server and the status, never the token', async () => {
    await withWorld('gitea', { settings: { FORGE_TOKEN: 'wrong-token-value-123' } }, async (w) => {
      const doctor = await w.sb.cli(['doctor', '--json']);
      const { checks } = JSON.parse(doctor.stdout) as {
        checks: { name: string; status: string; detail: string }[];
      };
      const check = checks.find((c) => c.name === 'server forge');
      expect(check?.status).toBe('fail');
      expect(check?.detail).toMatch(/forge.*401/);
      expect(check?.detail).toContain('FORGE_TOKEN');
      expect(doctor.stdout).not.toContain('wrong-token-value-123');

      const n = w.forge.addIssue('me', 'app', { title: 'T', body: 'b' });
      await w.sb.ok(['daemon', 'start']);
      const id = await w.sb.startDetached(['start', `${w.host}/me/app#${n}`, 'go']);
      const task = await w.sb.finished(id);
      expect(task.state).toBe('error');
      // No retry storm against a forge that refuses the token.
      expect(task.attempts).toBe(1);
      expect(task.lastError).toBe(
        "server forge refused kugetsu's credentials to fetch me/app: check FORGE_TOKEN",
      );
    });
  });
});

describe('intake (gitea)', () => {
  it('queues a labelled issue once, and a mention continues its session', async () => {
    const settings = { KUGETSU_INTAKE_INTERVAL_SECONDS: '0.3' };
    await withWorld('gitea', { settings }, async (w) => {
      const labelled = w.forge.addIssue('me', 'app', {
        title: 'Queue me',
        body: 'b',
        labels: ['kugetsu'],
      });
      w.forge.addIssue('me', 'app', { title: 'Leave me', body: 'b', labels: ['bug'] });
      await w.sb.ok(['intake', 'add', `${w.host}/me/app`, '--label', 'kugetsu']);
      await w.sb.ok(['daemon', 'start']);
      const tasksFor = async (n: number): Promise<Task[]> =>
        (await w.sb.tasks()).filter((t) => t.issueRef === `${w.host}/me/app#${n}`);
      const [first] = await w.sb.until('the labelled issue queued', async () => {
        const tasks = await tasksFor(labelled);
        return tasks.length > 0 ? tasks : null;
      });
      if (first === undefined) throw new Error('no task');
      expect((await w.sb.finished(first.id)).state).toBe('completed');
      // Several polls later: still one task, and the idle polls were answered 304.
      await w.sb.until('more polls', () =>
        w.forge.requests.filter((r) => r.method === 'GET' && r.status === 304).length >= 4
          ? true
          : null,
      );
      expect(await tasksFor(labelled)).toHaveLength(1);
      const { tasks } = await w.sb.json<{ tasks: Task[] }>(['queue', 'list', '--all']);
      expect(tasks).toHaveLength(1);

      // kugetsu's own comment (the hand-off's) does not count as a mention.
      w.forge.addComment('me', 'app', labelled, '@kugetsu please also update the docs', 'hal');
      const second = await w.sb.until('the mention queued', async () => {
        const all = await tasksFor(labelled);
        return all.length === 2 ? all.find((t) => t.id !== first.id) : null;
      });
      expect(second?.mode).toBe('continue');
      expect(second?.message).toContain('please also update the docs');
      if (second === undefined) throw new Error('no second task');
      expect((await w.sb.finished(second.id)).state).toBe('completed');
      expect(await tasksFor(labelled)).toHaveLength(2);
    });
  });
});

describe('from the phone to a pull request (gitea)', () => {
  it('/delegate on a forge issue: the completion push carries the PR link and a button to it', async () => {
    const tg = await FakeTelegram.start();
    const owner = { id: 111, first_name: 'Owner' };
    const settings = {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ALLOWED_USERS: String(owner.id),
      TELEGRAM_NOTIFY_CHATS: String(owner.id),
    };
    try {
      await withWorld('gitea', { settings }, async (w) => {
        const n = w.forge.addIssue('me', 'app', { title: 'From the phone', body: 'b' });
        await w.sb.ok(['daemon', 'start']);
        await tg.waitFor(() => tg.calls('getUpdates').length > 0);
        tg.userSends(owner, `/delegate work on ${w.host}/me/app#${n}`);
        const done = await tg.waitFor(
          () => tg.messagesIn(owner.id).find((m) => m.text?.includes('completed')),
          60_000,
        );
        const { sessions } = await w.sb.json<{ sessions: Session[] }>(['list', '--all']);
        const pr = sessions[0]?.pullRequest;
        if (pr === undefined || pr === null) throw new Error('no pull request');
        expect(pr.url.startsWith(w.forge.url)).toBe(true);
        expect(done.text).toContain(pr.url);
        expect(done.reply_markup?.inline_keyboard?.[0]).toEqual([
          { text: `Pull request #${pr.number}`, url: pr.url },
        ]);
        expect(JSON.stringify(tg.messagesIn(owner.id))).not.toContain(TOKEN);
        expect(tg.violations).toEqual([]);
      });
    } finally {
      await tg.close();
    }
  });
});
