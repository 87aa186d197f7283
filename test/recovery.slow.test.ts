/**
 * Crash recovery: `kill -9` the daemon while 3 agents run, start a new one. Every task ends
 * `completed` exactly once, no two agents of one task are ever alive together, and the
 * interrupted sessions went through `left`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, fixture, running } from './helpers/sandbox.js';

interface Task {
  id: number;
  state: string;
  issueRef: string;
}

describe('daemon crash recovery', () => {
  let sb: Sandbox;

  beforeEach(async () => {
    sb = new Sandbox({ MAX_CONCURRENT_AGENTS: '3', AGENT_SLEEP: '5' });
    sb.env['COUNTER_DIR'] = sb.dir;
    sb.env['KUGETSU_AGENT_COMMAND'] = fixture('counting-agent.sh');
    sb.env['KUGETSU_DEFAULT_REPO'] = 'local/me/app';
    await sb.setup();
  });
  afterEach(() => sb.cleanup());

  it('kill -9 mid-run: restart resumes each task once, never twice at a time', async () => {
    // Queued before the daemon starts, so the three start together: one CLI after another on
    // a busy machine, the first agent could be done before the third began.
    const ids: number[] = [];
    for (const n of [1, 2, 3])
      ids.push(
        (
          await sb.json<{ task: { id: number } }>([
            'queue',
            'enqueue',
            `local/me/app#${n}`,
            `#${n} fix it`,
          ])
        ).task.id,
      );
    await sb.ok(['daemon', 'start']);
    await sb.until(
      '3 agents alive',
      () => readdirSync(sb.dir).filter((f) => f.startsWith('alive.')).length === 3,
    );
    const { pid } = await sb.json<{ pid: number }>(['daemon', 'status']);
    const firstAgents = readdirSync(sb.dir)
      .filter((f) => f.startsWith('alive.'))
      .map((f) => Number(f.slice(6)));

    process.kill(pid, 'SIGKILL');
    await sb.until('the daemon to die', () => !running(pid));
    // The orphaned agents are still alive: the old daemon could not stop them.
    expect(firstAgents.every(running)).toBe(true);

    await sb.ok(['daemon', 'start']);
    await sb.until(
      'all tasks done',
      async () => {
        const tasks = await sb.tasks();
        return tasks.every((t) => t.state === 'completed');
      },
      60_000,
    );

    // The orphans were ended before their tasks started again.
    expect(firstAgents.some(running)).toBe(false);
    const counts = readFileSync(join(sb.dir, 'counts.log'), 'utf8').trim().split('\n').map(Number);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    const runs = readFileSync(join(sb.dir, 'runs.log'), 'utf8').trim().split('\n').map(Number);
    // Each task ran twice (interrupted, then resumed) and no more.
    for (const id of ids) expect(runs.filter((r) => r === id)).toHaveLength(2);

    const { tasks } = await sb.json<{ tasks: Task[] }>(['queue', 'list', '--all']);
    expect(tasks.map((t) => t.state)).toEqual(['completed', 'completed', 'completed']);
    const { events } = await sb.json<{ events: { type: string; taskId: number }[] }>([
      'notify',
      'list',
      '--all',
    ]);
    for (const id of ids)
      expect(events.filter((e) => e.taskId === id && e.type === 'task_completed')).toHaveLength(1);

    const daemonLog = await sb.ok(['daemon', 'logs', '-n', '200']);
    for (const id of ids)
      expect(daemonLog).toContain(`task #${id}: interrupted by a previous daemon's exit`);
    const { runs: runRows } = await sb.json<{
      runs: { taskId: number; mode: string; outcome: string }[];
    }>(['logs', '-n', '20']);
    for (const id of ids) {
      const modes = runRows
        .filter((r) => r.taskId === id)
        .map((r) => `${r.mode}:${r.outcome}`)
        .sort();
      expect(modes).toEqual(['resume:completed', 'start:interrupted']);
    }
  });

  it('a graceful daemon stop leaves sessions `left`; the next daemon resumes them', async () => {
    const { taskId } = await sb.json<{ taskId: number }>(['delegate', '#7 long job']);
    await sb.until('the agent to run', () =>
      readdirSync(sb.dir).some((f) => f.startsWith('alive.')),
    );
    await sb.ok(['daemon', 'stop']);
    const { sessions } = await sb.json<{ sessions: { issueRef: string; state: string }[] }>([
      'list',
    ]);
    expect(sessions).toEqual([
      expect.objectContaining({ issueRef: 'local/me/app#7', state: 'left' }),
    ]);
    const task = await sb.json<{ tasks: Task[] }>(['queue', 'list']);
    expect(task.tasks).toEqual([expect.objectContaining({ id: taskId, state: 'pending' })]);
    await sb.ok(['daemon', 'start']);
    await sb.until(
      'the task to complete',
      async () => (await sb.tasks())[0]?.state === 'completed',
      30_000,
    );
    const after = await sb.json<{ sessions: { state: string }[] }>(['list', '--all']);
    expect(after.sessions.map((s) => s.state)).toEqual(['idle']);
  });

  it('a stop asked for while no daemon runs is honoured when one starts, not resumed', async () => {
    sb.env['KUGETSU_AGENT_COMMAND'] = fixture('hang-agent.sh');
    await sb.ok(['start', 'local/me/app#9', 'hang', '--detach']);
    const marker = await sb.until('the agent and its grandchild to run', () =>
      readdirSync(sb.dir).find((f) => f.startsWith('grandchild.')),
    );
    const grandchild = Number(
      await sb.until('its pid', () => readFileSync(join(sb.dir, marker), 'utf8').trim()),
    );
    const { pid } = await sb.json<{ pid: number }>(['daemon', 'status']);
    process.kill(pid, 'SIGKILL');
    await sb.until('the daemon to die', () => !running(pid));
    expect(running(grandchild)).toBe(true);

    const stop = await sb.json<{ task: Task }>(['stop', 'local/me/app#9']);
    expect(stop.task.state).toBe('cancelled');
    expect(running(grandchild)).toBe(false);
    const { sessions } = await sb.json<{ sessions: { state: string }[] }>(['list']);
    expect(sessions.map((s) => s.state)).toEqual(['left']);
    const { tasks } = await sb.json<{ tasks: Task[] }>(['queue', 'list', '--all']);
    expect(tasks.map((t) => t.state)).toEqual(['cancelled']);
  });
});
