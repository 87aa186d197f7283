/** The daemon as a user meets it: event-driven dispatch, admission control, following logs, the demo. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, Sandbox, fixture } from './helpers/sandbox.js';

interface Task {
  id: number;
  state: string;
  waitReason: string | null;
}

describe('daemon', () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  it('dispatches a task queued by another process at once, not at the next sweep', async () => {
    // A one-hour sweep: only the wake-up on the socket can explain a prompt dispatch.
    sb = new Sandbox({
      QUEUE_DAEMON_INTERVAL_MINUTES: '60',
      KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
    });
    await sb.setup();
    await sb.ok(['daemon', 'start']);
    // Let the daemon's start-up sweep pass, so the task below can only be found by a wake-up.
    await sb.until('an idle daemon', async () =>
      (await sb.ok(['daemon', 'logs'])).includes('started'),
    );
    const queuedAt = Date.now();
    await sb.ok(['queue', 'enqueue', 'local/me/app#1', 'quick']);
    const task = await sb.until(
      'the task to complete',
      async () => {
        const tasks = await sb.tasks();
        return tasks[0]?.state === 'completed' ? tasks[0] : null;
      },
      20_000,
    );
    expect(task.id).toBe(1);
    expect(Date.now() - queuedAt).toBeLessThan(20_000);
  });

  it('starts no agent while memory is short, says why, and starts it when allowed', async () => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
      KUGETSU_MIN_FREE_MEMORY_MB: '100000000',
    });
    await sb.setup();
    await sb.ok(['start', 'local/me/app#2', 'needs memory', '--detach']);
    const waiting = await sb.until('a low-memory reason', async () => {
      const { tasks } = await sb.json<{ tasks: Task[] }>(['queue', 'list']);
      return tasks[0]?.waitReason?.startsWith('low memory') === true ? tasks[0] : null;
    });
    expect(waiting.state).toBe('pending');
    expect(waiting.waitReason).toMatch(
      /^low memory: \d+ MB available, KUGETSU_MIN_FREE_MEMORY_MB=100000000$/,
    );
    expect(await sb.ok(['queue', 'list'])).toContain('low memory');

    await sb.ok(['daemon', 'restart'], { env: { KUGETSU_MIN_FREE_MEMORY_MB: '0' } });
    await sb.until(
      'the task to complete',
      async () => (await sb.tasks())[0]?.state === 'completed',
    );
  });

  it('a second daemon for the same home refuses to start', async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh') });
    await sb.setup();
    const first = await sb.json<{ pid: number; started: boolean }>(['daemon', 'start']);
    expect(first.started).toBe(true);
    const again = await sb.json<{ pid: number; started: boolean }>(['daemon', 'start']);
    expect(again).toEqual({ pid: first.pid, started: false, restarted: false });
    const direct = await sb.cli(['daemon', 'run']);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toContain(`a daemon already runs for ${sb.home} (pid ${first.pid})`);
  });

  it('logs -f follows a live transcript until the task ends', async () => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: `sh -c 'for i in 1 2 3; do echo "step $i"; sleep 0.3; done'`,
    });
    await sb.setup();
    await sb.ok(['start', 'local/me/app#3', 'steps', '--detach']);
    const follow = await sb.cli(['logs', 'local/me/app#3', '-f']);
    expect(follow.code).toBe(0);
    expect(follow.stdout).toMatch(/step 1\nstep 2\nstep 3\n/);
    expect(follow.stdout.trim().split('\n').at(-1)).toBe('[kugetsu] task #1 completed');
  });

  it('the demo runs the whole lifecycle offline under a cap of 2', async () => {
    sb = new Sandbox();
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const env = { ...process.env, KUGETSU_HOME: '', KUGETSU_DEMO_STEP_MS: '150', TMPDIR: sb.dir };
      const child = spawn(process.execPath, [CLI, 'demo', '--tasks', '4'], { env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain(
      '5/5 tasks completed (one a follow-up from the phone); at most 2 agents ran at once (cap 2).',
    );
    for (const n of [1, 2, 3, 4]) expect(result.out).toContain(`kugetsu/local-demo-app-${n}`);
    expect(result.out.match(/task_started/g)).toHaveLength(5);
    // The chat as the phone shows it: the delegate, an approval tapped, a reply that continues.
    const chat = result.out
      .split('\n')
      .filter((line) => /^\s*[0-9.]+s\s+📱 /.test(line))
      .map((line) => line.replace(/^\s*[0-9.]+s\s+📱 /, ''));
    expect(chat[0]).toBe('you      /delegate #1 add a greeting to the README and publish it');
    expect(chat).toContain('kugetsu  📥 Task #1 queued for local/demo/app#1');
    expect(result.out).toMatch(
      /🔐 asks for permission · local\/demo\/app#1[\s\S]*\[Allow once\] \[Allow for this task\]/,
    );
    expect(chat).toContain('you      taps [Allow once]');
    expect(result.out).toMatch(
      /\(edited\) 🔐 asks for permission[^\n]*\n\s+✅ allowed once by you \(telegram\)/,
    );
    expect(chat).toContain('you      (replying) also add a farewell');
    expect(chat).toContain('kugetsu  📥 Task #5 queued for local/demo/app#1');
  });
});

// An agent's sandbox (codex runs every command in a PID namespace of its own) that runs
// `kugetsu` sees other pids: there the daemon's pid names nothing. It must still count as alive.
const canUnshare = process.getuid?.() === 0 && existsSync('/usr/bin/unshare');

describe.skipIf(!canUnshare)('daemon seen from another PID namespace', () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  const inNamespace = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        '/usr/bin/unshare',
        ['--pid', '--fork', '--mount-proc', process.execPath, CLI, ...args],
        { env: sb.env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it('is neither taken over nor signalled, and its running task is not recovered', async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('hang-agent.sh') });
    sb.env['COUNTER_DIR'] = sb.dir;
    await sb.setup();
    await sb.ok(['daemon', 'start']);
    const { pid } = await sb.json<{ pid: number }>(['daemon', 'status']);
    const id = await sb.startDetached(['start', 'local/me/app#1', 'hang']);
    await sb.until(
      'the task to run',
      async () => (await sb.store().tasks.get(id))?.state === 'running',
    );

    const run = await inNamespace(['daemon', 'run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/a daemon already runs/);
    const stop = await inNamespace(['daemon', 'stop']);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toMatch(/runs in another PID namespace/);

    expect((await sb.json<{ pid: number }>(['daemon', 'status'])).pid).toBe(pid);
    expect((await sb.store().tasks.get(id))?.state).toBe('running');
    expect(await sb.ok(['daemon', 'logs'])).not.toMatch(/interrupted by a previous daemon/);
  });
});
