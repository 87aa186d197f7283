/**
 * Timeouts and stalls end the whole process group — including a grandchild that ignores
 * SIGTERM — and the task is retried with backoff up to KUGETSU_MAX_ATTEMPTS, then `error`
 * with the reason.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, fixture, running } from './helpers/sandbox.js';

interface Task {
  id: number;
  state: string;
  attempts: number;
  lastError: string | null;
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

  it('an agent silent for KUGETSU_STALL_TIMEOUT_MINUTES is stalled and killed with its group', async () => {
    sb = new Sandbox();
    const { task } = await runHanging(sb, { KUGETSU_STALL_TIMEOUT_MINUTES: '0.01' });
    expect(task).toMatchObject({ state: 'error', attempts: 2 });
    expect(task.lastError).toMatch(/^stalled: no output for 0\.6 s/);
    for (const pid of grandchildren(sb)) expect(running(pid)).toBe(false);
    const transcript = await sb.ok(['logs', String(task.id)]);
    expect(transcript).toContain('started attempt 1');
    expect(transcript).toContain('started attempt 2');
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
