/**
 * Timeouts and stalls end the whole process group — including a grandchild that ignores
 * SIGTERM — and the task is retried with backoff up to KUGETSU_MAX_ATTEMPTS, then `error`
 * with the reason.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, fixture, running } from './helpers/sandbox.js';

interface Task {
  id: number;
  state: string;
  attempts: number;
  lastError: string | null;
}
interface Approval {
  id: number;
  kind: string;
  state: string;
  answeredBy: { channel: string; who: string } | null;
}
interface Event {
  type: string;
  taskId: number;
  message: string;
  createdAt: number;
}

async function runHanging(
  sb: Sandbox,
  settings: Record<string, string>,
): Promise<{ task: Task; events: Event[] }> {
  Object.assign(sb.env, settings, {
    COUNTER_DIR: sb.dir,
    KUGETSU_AGENT_COMMAND: fixture('hang-agent.sh'),
    KUGETSU_MAX_ATTEMPTS: '2',
  });
  await sb.setup();
  const result = await sb.cli(['start', 'local/me/app#1', 'hang around'], { timeoutMs: 60_000 });
  expect(result.code).toBe(1);
  const { tasks } = await sb.json<{ tasks: Task[] }>(['queue', 'list', '--all']);
  const { events } = await sb.json<{ events: Event[] }>(['notify', 'list', '--all']);
  return { task: tasks[0] as Task, events };
}

function grandchildren(sb: Sandbox): number[] {
  return readdirSync(sb.dir)
    .filter((f) => f.startsWith('grandchild.'))
    .map((f) => Number(readFileSync(join(sb.dir, f), 'utf8').trim()));
}

describe('timeouts and stalls', () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  it('a task over KUGETSU_TASK_TIMEOUT_MINUTES is killed with its group, retried, then fails', async () => {
    sb = new Sandbox();
    const { task, events } = await runHanging(sb, {
      CHATTY: '1',
      KUGETSU_TASK_TIMEOUT_MINUTES: '0.02',
    });
    expect(task).toMatchObject({ state: 'error', attempts: 2 });
    expect(task.lastError).toMatch(/^timed out after 1\.2 s/);
    const kids = grandchildren(sb);
    expect(kids).toHaveLength(2);
    for (const pid of kids) expect(running(pid)).toBe(false);
    const types = events.filter((e) => e.taskId === task.id).map((e) => e.type);
    expect(types).toEqual([
      'task_queued',
      'task_dequeued',
      'task_started',
      'task_retrying',
      'task_dequeued',
      'task_started',
      'task_error',
    ]);
    // The retry waited for its backoff (base 0.2 s) after the first attempt ended.
    const retrying = events.find((e) => e.type === 'task_retrying');
    const secondDequeue = events.filter((e) => e.type === 'task_dequeued')[1];
    expect((secondDequeue?.createdAt ?? 0) - (retrying?.createdAt ?? 0)).toBeGreaterThanOrEqual(
      200,
    );
  });

  it('an agent silent for KUGETSU_STALL_TIMEOUT_MINUTES is asked about, then stalled and killed with its group', async () => {
    sb = new Sandbox();
    const { task } = await runHanging(sb, {
      KUGETSU_STALL_TIMEOUT_MINUTES: '0.01',
      KUGETSU_STALL_GRACE_MINUTES: '0.01',
    });
    expect(task).toMatchObject({ state: 'error', attempts: 2 });
    expect(task.lastError).toMatch(/^stalled: no output for 0\.6 s/);
    for (const pid of grandchildren(sb)) expect(running(pid)).toBe(false);
    const transcript = await sb.ok(['logs', String(task.id)]);
    expect(transcript).toContain('started attempt 1');
    expect(transcript).toContain('started attempt 2');
    // Each stall was a question first, which nobody answered within the grace period.
    const { approvals } = await sb.json<{ approvals: Approval[] }>(['approvals', '--all']);
    expect(approvals.map((a) => [a.kind, a.state, a.answeredBy?.channel])).toEqual([
      ['stall', 'expired', 'timeout'],
      ['stall', 'expired', 'timeout'],
    ]);
  });

  it('a stall question answered with more time keeps the agent; Stop ends the task for good', async () => {
    sb = new Sandbox({
      COUNTER_DIR: '',
      KUGETSU_AGENT_COMMAND: fixture('hang-agent.sh'),
      KUGETSU_STALL_TIMEOUT_MINUTES: '0.01',
      KUGETSU_STALL_GRACE_MINUTES: '1',
      KUGETSU_STALL_EXTEND_MINUTES: '0.03',
    });
    sb.env['COUNTER_DIR'] = sb.dir;
    await sb.setup();
    const id = await sb.startDetached(['start', 'local/me/app#3', 'think quietly']);
    const openStall = (after: number) =>
      sb.until('a stall question', async () =>
        (await sb.store().approvals.list()).find((a) => a.taskId === id && a.id > after),
      );
    const first = await openStall(0);
    // The waiting task holds its slot, and `queue list` says what it waits for.
    const queued = await sb.json<{ tasks: (Task & { waitingForApproval: number | null })[] }>([
      'queue',
      'list',
    ]);
    expect(queued.tasks[0]).toMatchObject({ state: 'running', waitingForApproval: first.id });
    expect(await sb.ok(['queue', 'list'])).toContain(
      `waiting for your answer to approval #${first.id}`,
    );
    expect((await sb.ok(['approve', String(first.id)])).trim()).toBe(
      `approval #${first.id}: given more time by ${userInfo().username} (cli)`,
    );
    // From the answer, not from the late answer below: that CLI run takes its own time.
    const answeredAt = Date.now();
    // A second answer loses, and says who answered first.
    const late = await sb.cli(['deny', String(first.id)]);
    expect(late).toMatchObject({ code: 1 });
    expect(late.stderr).toContain(`is already given more time by ${userInfo().username} (cli)`);
    const second = await openStall(first.id);
    // Silent again, it was asked again only after the extra time (1.8 s), not the stall limit.
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(1_500);
    const [grandchild] = grandchildren(sb);
    expect(running(grandchild ?? 0)).toBe(true);
    await sb.ok(['deny', String(second.id)]);
    const task = await sb.finished(id);
    expect(task).toMatchObject({ state: 'cancelled', attempts: 1 });
    expect(running(grandchild ?? 0)).toBe(false);
  });

  it('a failing agent exhausts its attempts and reports its last line', async () => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: fixture('fail-agent.sh'),
      KUGETSU_MAX_ATTEMPTS: '3',
    });
    await sb.setup();
    const result = await sb.cli(['start', 'local/me/app#2', 'build it']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('failed: exit code 3: boom: the build is broken');
    const { tasks } = await sb.json<{ tasks: Task[] }>(['queue', 'list', '--all']);
    expect(tasks[0]).toMatchObject({ state: 'error', attempts: 3 });
    const retried = await sb.json<{ task: Task }>(['queue', 'retry', String(tasks[0]?.id)]);
    expect(retried.task).toMatchObject({ state: 'pending', attempts: 0 });
  });
});
