/** CLI surface: servers, the PM route of delegate, queue housekeeping, and --json everywhere. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, fixture } from './helpers/sandbox.js';

interface Server {
  name: string;
  kind: string;
  host: string | null;
  isDefault: boolean;
}
interface Task {
  id: number;
  kind: string;
  state: string;
  result: string | null;
  waitReason: string | null;
}

describe('kugetsu CLI', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh') });
    await sb.setup();
  });
  afterAll(() => sb.cleanup());

  it('manages servers and infers their kind', async () => {
    await sb.ok(['server', 'add', 'gh', 'https://github.com', '--token-env', 'GITHUB_TOKEN']);
    await sb.ok(['server', 'add', 'forge', 'https://git.example.com:3000/']);
    const { servers } = await sb.json<{ servers: Server[] }>(['server', 'list']);
    expect(servers.map((s) => [s.name, s.kind, s.host, s.isDefault])).toEqual([
      ['forge', 'gitea', 'git.example.com:3000', false],
      ['gh', 'github', 'github.com', false],
      ['local', 'git', null, true],
    ]);
    const clash = await sb.cli(['server', 'add', 'again', 'https://github.com/']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain('server gh already serves github.com');
    expect(await sb.json(['server', 'default', 'forge'])).toEqual({ default: 'forge' });
    // owner/repo#N now resolves on the default server, which has no repo here: a clear failure.
    expect((await sb.json<{ server: Server }>(['server', 'get', 'gh'])).server.kind).toBe('github');
    await sb.ok(['server', 'default', 'local']);
    await sb.ok(['server', 'remove', 'gh']);
    await sb.ok(['server', 'remove', 'forge']);
    expect((await sb.cli(['server', 'get', 'gh'])).code).toBe(1);
  });

  it('routes a message without an issue ref to the PM agent, whose last line is the result', async () => {
    const pm = `printf 'stdin: '; cat; echo; echo "cwd: $PWD"; echo "answer: start with local/me/app#14"`;
    await sb.ok(['daemon', 'restart'], { env: { KUGETSU_AGENT_COMMAND: pm } });
    const out = await sb.json<{ taskId: number; route: string }>([
      'delegate',
      'what should we work on next?',
    ]);
    expect(out.route).toBe('pm');
    const task = await sb.until('the PM task to finish', async () => {
      const tasks = await sb.tasks();
      const found = tasks.find((t) => t.id === out.taskId);
      return found?.state === 'completed' ? found : null;
    });
    expect(task).toMatchObject({ kind: 'pm', result: 'answer: start with local/me/app#14' });
    const logs = await sb.ok(['logs', String(out.taskId)]);
    expect(logs).toContain('stdin: what should we work on next?');
    expect(logs).toContain(`cwd: ${sb.home}/pm`);
    const { events } = await sb.json<{
      events: { taskId: number; type: string; message: string }[];
    }>(['notify']);
    expect(
      events.find((e) => e.taskId === out.taskId && e.type === 'task_completed')?.message,
    ).toBe(`#${out.taskId} completed: answer: start with local/me/app#14`);
    await sb.ok(['daemon', 'stop']);
  });

  it('cancels, retries and clears queued work', async () => {
    await sb.ok(['daemon', 'stop']);
    const first = await sb.json<{ task: Task }>(['queue', 'enqueue', 'local/me/app#30', 'one']);
    const second = await sb.json<{ task: Task }>(['queue', 'enqueue', 'local/me/app#31', 'two']);
    expect(
      (await sb.json<{ task: Task }>(['queue', 'cancel', String(second.task.id)])).task.state,
    ).toBe('cancelled');
    // Cancelling a cancelled task is refused, not silently repeated.
    const again = await sb.cli(['queue', 'cancel', String(second.task.id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `kugetsu: task ${second.task.id} is already cancelled: nothing to cancel\n`,
    );
    expect(
      (await sb.json<{ task: Task }>(['queue', 'retry', String(second.task.id)])).task.state,
    ).toBe('pending');
    const stats = await sb.json<{ pending: number; daemon: number | null }>(['queue', 'stats']);
    expect(stats).toMatchObject({ pending: 2, daemon: null });
    // No claim has judged them: the listing gives each its place in line.
    const listed = await sb.json<{ tasks: Task[] }>(['queue', 'list']);
    expect(listed.tasks.map((t) => [t.id, t.waitReason])).toEqual([
      [first.task.id, null],
      [second.task.id, 'in line behind 1 earlier dev task'],
    ]);
    const cleared = await sb.json<{ cancelled: number }>(['queue', 'clear', '--all']);
    expect(cleared.cancelled).toBe(2);
    const missing = await sb.cli(['queue', 'cancel', '9999']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('kugetsu: task 9999 not found\n');
    expect(first.task.state).toBe('pending');
  });

  it.each([
    ['status'],
    ['doctor'],
    ['list'],
    ['list', '--all'],
    ['queue', 'list'],
    ['queue', 'stats'],
    ['notify'],
    ['env', 'list'],
    ['env', 'show'],
    ['server', 'list'],
    ['logs'],
    ['daemon', 'status'],
    ['prune'],
  ])('prints one JSON document for %j --json', async (...args) => {
    const result = await sb.cli([...args, '--json']);
    expect(() => JSON.parse(result.stdout) as unknown, result.stdout).not.toThrow();
    expect(result.stderr).toBe('');
  });

  it('answers --version and help', async () => {
    expect((await sb.ok(['--version'])).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await sb.ok(['help'])).toContain('Usage: kugetsu <command>');
    expect(await sb.ok(['help', 'start'])).toContain('Usage: kugetsu start REF MESSAGE');
    expect(await sb.ok(['queue', '--help'])).toContain('Usage: kugetsu queue');
  });
});
