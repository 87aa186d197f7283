/**
 * Every operation of the HTTP API against a real daemon running real (scripted) agents: the
 * answers are the CLI's `--json` documents, side by side; writes queue, stop, resume, cancel,
 * retry, answer approvals, prune and destroy for real; secrets never come back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../core/approvals/approval.js';
import type { KugetsuEvent, Session, Task } from '../core/domain.js';
import { daemonWithApi, type ApiClient } from './helpers/api-client.js';
import { Sandbox, fixture } from './helpers/sandbox.js';

const SECRET = 'sk-live-0123456789abcdef';

// The message picks the script: "hang" never ends, "ask" asks for approval, the rest commit.
const AGENT = `case "$KUGETSU_MESSAGE" in
  *hang*) echo started; exec sleep 1000;;
  *ask*) exec ${fixture('ask-agent.sh')};;
  *) exec ${fixture('echo-agent.sh')};;
esac`;

describe('HTTP API: every operation', () => {
  let sb: Sandbox;
  let api: ApiClient;

  beforeAll(async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: AGENT, KUGETSU_DEFAULT_REPO: 'local/me/app' });
    await sb.setup();
    await sb.ok(['env', 'set', 'API_TOKEN', '-'], { input: SECRET });
    api = await daemonWithApi(sb);
  });
  afterAll(() => sb.cleanup());

  const finished = async (id: number): Promise<Task> => {
    const task = await sb.finished(id);
    return (await api.get<{ task: Task }>(`/api/v1/tasks/${id}`)).body.task ?? task;
  };
  const state = async (id: number): Promise<Task['state']> =>
    (await api.get<{ task: Task }>(`/api/v1/tasks/${id}`)).body.task.state;
  const transcript = async (id: number): Promise<string> =>
    (await api.get<{ runs: { lines: string[] }[] }>(`/api/v1/tasks/${id}`)).body.runs
      .flatMap((r) => r.lines)
      .join('\n');

  it('delegates, continues and reads tasks as the CLI does, scrubbing secrets', async () => {
    const delegated = await api.post<{ taskId: number; route: string; task: Task }>(
      '/api/v1/tasks',
      { message: `work on #1 with ${SECRET}` },
    );
    expect(delegated.status).toBe(201);
    expect(delegated.body.route).toBe('issue');
    expect(JSON.stringify(delegated.body)).not.toContain(SECRET);
    const id = delegated.body.taskId;
    expect((await finished(id)).state).toBe('completed');
    const lines = await transcript(id);
    expect(lines).toContain('secret=');
    expect(lines).toContain('done');
    expect(lines).not.toContain(SECRET);

    const cont = await api.post<{ task: Task; note: null; daemon: { pid: number } }>(
      '/api/v1/tasks/continue',
      { ref: 'local/me/app#1', message: 'and the tests' },
    );
    expect(cont.status).toBe(201);
    expect(cont.body.task.mode).toBe('continue');
    expect(cont.body.daemon.pid).toBeGreaterThan(0);
    expect((await finished(cont.body.task.id)).state).toBe('completed');

    const pm = await api.post<{ route: string; taskId: number }>('/api/v1/tasks', {
      message: 'what is left to do?',
    });
    expect(pm.body.route).toBe('pm');
    await finished(pm.body.taskId);

    const all = await api.get<{ tasks: Task[] }>('/api/v1/tasks?all=true');
    const cli = await sb.json<{ tasks: Task[] }>(['queue', 'list', '--all']);
    expect(all.body).toEqual(cli);
    expect(all.body.tasks.map((t) => t.id)).toEqual([id, cont.body.task.id, pm.body.taskId]);
    const byRef = await api.get<{ tasks: Task[] }>('/api/v1/tasks?ref=local/me/app%231&all=true');
    expect(byRef.body.tasks.map((t) => t.id)).toEqual([id, cont.body.task.id]);
    const done = await api.get<{ tasks: Task[] }>('/api/v1/tasks?state=completed,error&limit=1');
    expect(done.body.tasks.map((t) => t.id)).toEqual([id]);
    expect((await api.get<{ tasks: Task[] }>('/api/v1/tasks')).body.tasks).toEqual([]);
    expect((await api.get(`/api/v1/tasks/${id}`)).body).toEqual(
      await sb.json(['logs', String(id)]),
    );
    expect((await api.get('/api/v1/sessions?all=true')).body).toEqual(
      await sb.json(['list', '--all']),
    );
    const stats = await api.get<Record<string, number>>('/api/v1/queue/stats');
    expect(stats.body).toEqual(await sb.json(['queue', 'stats']));
    // The PM agent's run of the echo script has no repository to commit in: it fails.
    expect(stats.body).toMatchObject({ completed: 2, error: 1, maxConcurrentAgents: 3 });
    expect(stats.body['daemon']).toBeGreaterThan(0);
  });

  it('stops a running task, resumes the session, cancels and retries by id', async () => {
    const started = await api.post<{ task: Task }>('/api/v1/tasks/start', {
      ref: 'local/me/app#2',
      message: 'hang around',
    });
    const id = started.body.task.id;
    await sb.until('the agent to start', async () => (await transcript(id)).includes('started'));
    const stop = await api.post<{ task: Task; session: Session }>('/api/v1/tasks/stop', {
      ref: 'local/me/app#2',
    });
    expect(stop.status).toBe(200);
    expect(stop.body.task.cancelRequested).toBe(true);
    expect(stop.body.session.issueRef).toBe('local/me/app#2');
    expect((await finished(id)).state).toBe('cancelled');
    // Core calls stopping a session that is not in use a usage error, as the CLI's exit 2 does.
    const idle = await api.post<{ code: string }>('/api/v1/tasks/stop', { ref: 'local/me/app#2' });
    expect([idle.status, idle.body.code]).toEqual([400, 'invalid_request']);

    const resumed = await api.post<{ task: Task }>('/api/v1/tasks/resume', {
      ref: 'local/me/app#2',
      message: 'now finish',
    });
    expect(resumed.body.task.mode).toBe('resume');
    expect((await finished(resumed.body.task.id)).state).toBe('completed');

    const hanging = await api.post<{ task: Task }>('/api/v1/tasks/start', {
      ref: 'local/me/app#3',
      message: 'hang again',
    });
    const hid = hanging.body.task.id;
    await sb.until('it to run', async () => (await state(hid)) === 'running');
    expect((await api.post<{ task: Task }>(`/api/v1/tasks/${hid}/cancel`)).status).toBe(200);
    expect((await finished(hid)).state).toBe('cancelled');
    const retried = await api.post<{ task: Task }>(`/api/v1/tasks/${hid}/retry`);
    expect(retried.body.task.state).toBe('pending');
    await sb.until('it to run again', async () => (await state(hid)) === 'running');
    await api.post(`/api/v1/tasks/${hid}/cancel`);
    expect((await finished(hid)).state).toBe('cancelled');
  });

  it('lists and answers approvals; a second answer is a conflict', async () => {
    const started = await api.post<{ task: Task }>('/api/v1/tasks/start', {
      ref: 'local/me/app#4',
      message: 'ask first',
    });
    const open = (after: number) =>
      sb.until('an open approval', async () =>
        (await api.get<{ approvals: Approval[] }>('/api/v1/approvals')).body.approvals.find(
          (a) => a.id > after,
        ),
      );
    const permission = await open(0);
    expect(permission).toMatchObject({ kind: 'permission', subject: 'deploy --prod' });
    const allowed = await api.post<{ approval: Approval }>(
      `/api/v1/approvals/${permission.id}/approve`,
      {},
    );
    expect(allowed.body.approval).toMatchObject({
      state: 'allowed',
      answeredBy: { channel: 'api', who: 'test' },
    });
    const again = await api.post<{ code: string }>(`/api/v1/approvals/${permission.id}/deny`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
    const question = await open(permission.id);
    await api.post(`/api/v1/approvals/${question.id}/approve`, { answer: 'blue' });
    expect((await finished(started.body.task.id)).state).toBe('completed');
    expect(await transcript(started.body.task.id)).toContain('colour: blue');
    const answered = await api.get<{ approvals: Approval[] }>('/api/v1/approvals?all=true');
    expect(answered.body).toEqual(await sb.json(['approvals', '--all']));
    expect((await api.post('/api/v1/approvals/99999/deny', {})).status).toBe(404);
  });

  it('lists and clears notifications; reports runs, usage, servers, status and doctor', async () => {
    const events = await api.get<{ events: KugetsuEvent[] }>('/api/v1/events?all=true');
    expect(events.body.events.map((e) => e.type)).toContain('task_completed');
    expect(events.body).toEqual(await sb.json(['notify', 'list', '--all']));
    const after = events.body.events.at(-3)?.id ?? 0;
    const tail = await api.get<{ events: KugetsuEvent[] }>(
      `/api/v1/events?all=true&after=${after}&limit=2`,
    );
    expect(tail.body.events.map((e) => e.id)).toEqual(
      events.body.events.slice(-2).map((e) => e.id),
    );
    const cleared = await api.post<{ cleared: number }>('/api/v1/events/read');
    expect(cleared.body.cleared).toBeGreaterThan(0);
    expect((await api.get<{ events: unknown[] }>('/api/v1/events')).body.events).toEqual([]);

    expect((await api.get('/api/v1/runs?limit=50')).body).toEqual(
      await sb.json(['logs', '-n', '50']),
    );
    const usage = await api.get<{ days: { day: string; agent: string; runs: number }[] }>(
      '/api/v1/usage?days=7',
    );
    const today = new Date().toISOString().slice(0, 10);
    const runs = (await api.get<{ runs: unknown[] }>('/api/v1/runs?limit=1000')).body.runs.length;
    expect(usage.body.days.map(({ day, agent, runs }) => ({ day, agent, runs }))).toEqual([
      { day: today, agent: 'command', runs },
    ]);

    expect((await api.get('/api/v1/servers')).body).toEqual(await sb.json(['server', 'list']));
    expect((await api.get('/api/v1/servers/local')).body).toEqual(
      await sb.json(['server', 'get', 'local']),
    );
    expect((await api.get('/api/v1/status')).body).toEqual(await sb.json(['status']));
    const doctor = await api.get<{ ok: boolean; checks: { name: string }[] }>('/api/v1/doctor');
    expect(doctor.body.checks.map((c) => c.name)).toContain('database');
  });

  it('prunes with a dry run, then destroys and prunes for real, and clears the queue', async () => {
    const refs = async () =>
      (await api.get<{ sessions: Session[] }>('/api/v1/sessions?all=true')).body.sessions
        .map((s) => s.issueRef)
        .sort();
    const before = await refs();
    expect(before).toEqual([
      'local/me/app#1',
      'local/me/app#2',
      'local/me/app#3',
      'local/me/app#4',
    ]);
    const dry = await api.post<{ pruned: string[]; dryRun: boolean }>('/api/v1/sessions/prune', {
      force: true,
      dryRun: true,
    });
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.pruned.sort()).toEqual(before);
    expect(await refs()).toEqual(before);

    const destroyed = await api.post('/api/v1/sessions/destroy', {
      ref: 'local/me/app#1',
      force: true,
    });
    expect(destroyed.body).toEqual({ destroyed: 'local/me/app#1' });
    expect((await api.post('/api/v1/sessions/destroy', { ref: 'local/me/app#1' })).status).toBe(
      404,
    );
    const pruned = await api.post<{ pruned: string[] }>('/api/v1/sessions/prune', { force: true });
    expect(pruned.body.pruned.sort()).toEqual(before.slice(1));
    expect(await refs()).toEqual([]);

    const cleared = await api.post<{ removed: number }>('/api/v1/queue/clear', {});
    expect(cleared.body.removed).toBeGreaterThan(0);
    expect((await api.get<{ tasks: Task[] }>('/api/v1/tasks?all=true')).body.tasks).toEqual([]);
  });
});
