/** The session lifecycle through the real CLI, daemon, git and the `command` agent. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, fixture, git } from './helpers/sandbox.js';

interface Session {
  issueRef: string;
  state: string;
  agentSessionId: string | null;
  worktreePath: string;
  branch: string;
  lastMessage: string;
}

describe('session lifecycle', () => {
  let sb: Sandbox;
  let origin: string;

  beforeEach(async () => {
    sb = new Sandbox({ KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh') });
    await sb.setup();
    origin = join(sb.gitRoot, 'me', 'app');
  });
  afterEach(() => sb.cleanup());

  it('status walks from not initialized to ok', async () => {
    const fresh = new Sandbox({ KUGETSU_AGENT_COMMAND: 'true' });
    try {
      expect((await fresh.cli(['status'])).stdout.trim()).toBe('kugetsu_not_initialized');
      await fresh.ok(['init']);
      expect(await fresh.json(['status'])).toEqual({ status: 'ok' });
      await fresh.ok(['destroy', '--pm-agent', '-y']);
      expect((await fresh.cli(['status'])).stdout.trim()).toBe('pm_agent_missing');
      await fresh.ok(['destroy', '--base', '-y']);
      expect((await fresh.cli(['status'])).stdout.trim()).toBe('base_session_missing');
      const doctor = await fresh.cli(['doctor']);
      expect(doctor.code).toBe(1);
      await fresh.ok(['doctor', '--fix']);
      expect((await fresh.cli(['status'])).stdout.trim()).toBe('ok');
      const config = readFileSync(join(fresh.home, 'config.env'), 'utf8');
      for (const key of [
        'MAX_CONCURRENT_AGENTS',
        'KUGETSU_AGENT',
        'TELEGRAM_BOT_TOKEN',
        'QUEUE_CLEANUP_AGE_DAYS',
      ]) {
        expect(config).toMatch(new RegExp(`^# ${key}=`, 'm'));
      }
    } finally {
      await fresh.cleanup();
    }
  });

  it('start streams the run, pushes the branch, and continue reuses the agent session', async () => {
    const start = await sb.cli(['start', 'local/me/app#14', 'add a changelog']);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('stdin: add a changelog');
    expect(start.stdout).toContain(
      'mode=start attempt=1 ref=local/me/app#14 branch=kugetsu/local-me-app-14',
    );
    expect(start.stdout).toMatch(
      /task #1 completed: branch kugetsu\/local-me-app-14 · 1 file changed, 1 insertion\(\+\) · pushed/,
    );

    const { sessions } = await sb.json<{ sessions: Session[] }>(['list', '--all']);
    expect(sessions).toEqual([
      expect.objectContaining({
        issueRef: 'local/me/app#14',
        state: 'idle',
        agentSessionId: 'sess-local-me-app-14',
      }),
    ]);
    // The work reached the user's repository on its own branch.
    expect(
      git(origin, ['log', '--format=%s', 'kugetsu/local-me-app-14']).trim().split('\n')[0],
    ).toBe('task 1');

    const cont = await sb.cli(['continue', 'https://local/me/app/issues/14', 'now the tests']);
    expect(cont.code).toBe(0);
    expect(cont.stdout).toContain('mode=continue attempt=1');
    expect(cont.stdout).toContain('agent-session-env=sess-local-me-app-14');
    expect(existsSync(join(sessions[0]?.worktreePath ?? '', 'task-1.txt'))).toBe(true);
    expect(existsSync(join(sessions[0]?.worktreePath ?? '', 'task-2.txt'))).toBe(true);
  });

  it('resume, stop and destroy enforce the session states', async () => {
    const missing = await sb.cli(['resume', 'local/me/app#3']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('not found');
    await sb.ok(['start', 'local/me/app#3', 'first pass']);
    const idle = await sb.cli(['resume', 'local/me/app#3']);
    expect(idle.code).toBe(2);
    expect(idle.stderr).toContain('cannot be resumed');
    const notUsed = await sb.cli(['stop', 'local/me/app#3']);
    expect(notUsed.code).toBe(2);
    expect(notUsed.stderr).toContain('not in use');

    const { sessions } = await sb.json<{ sessions: Session[] }>(['list', '--all']);
    const worktree = sessions[0]?.worktreePath ?? '';
    await import('node:fs').then((fs) =>
      fs.writeFileSync(join(worktree, 'scratch.txt'), 'unsaved'),
    );
    const refused = await sb.cli(['destroy', 'local/me/app#3', '-y']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('uncommitted work');
    expect(existsSync(worktree)).toBe(true);
    await sb.ok(['destroy', 'local/me/app#3', '-y', '--force']);
    expect(existsSync(worktree)).toBe(false);
    expect((await sb.json<{ sessions: Session[] }>(['list', '--all'])).sessions).toEqual([]);
  });

  it('stop interrupts a running agent; the session is left and resume picks up the stored message', async () => {
    sb.env['COUNTER_DIR'] = sb.dir;
    sb.env['KUGETSU_AGENT_COMMAND'] = fixture('hang-agent.sh');
    await sb.ok(['start', 'local/me/app#5', 'the long job', '--detach']);
    await sb.until(
      'the agent to run',
      async () => (await sb.json<{ sessions: Session[] }>(['list'])).sessions[0]?.state === 'used',
    );
    const stop = await sb.json<{ task: { state: string } }>(['stop', 'local/me/app#5']);
    expect(stop.task.state).toBe('cancelled');
    const { sessions } = await sb.json<{ sessions: Session[] }>(['list']);
    expect(sessions[0]).toMatchObject({ state: 'left', lastMessage: 'the long job' });

    sb.env['KUGETSU_AGENT_COMMAND'] = fixture('echo-agent.sh');
    await sb.ok(['daemon', 'restart']);
    const resumed = await sb.cli(['resume', 'local/me/app#5']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming with the stored message');
    expect(resumed.stdout).toContain('stdin: the long job');
    expect(resumed.stdout).toContain('mode=resume');
  });

  it('prune keeps unpushed or dirty work and removes what is safe', async () => {
    await sb.ok(['start', 'local/me/app#8', 'pushed work']);
    await sb.ok(['start', 'local/me/app#9', 'more work']);
    const { sessions } = await sb.json<{ sessions: Session[] }>(['list', '--all']);
    const nine = sessions.find((s) => s.issueRef.endsWith('#9'));
    await import('node:fs').then((fs) =>
      fs.writeFileSync(join(nine?.worktreePath ?? '', 'wip.txt'), 'wip'),
    );
    const report = await sb.json<{
      pruned: string[];
      kept: { issueRef: string; reason: string }[];
    }>(['prune']);
    expect(report.pruned).toEqual(['local/me/app#8']);
    expect(report.kept).toEqual([{ issueRef: 'local/me/app#9', reason: 'uncommitted work' }]);
    const forced = await sb.json<{ pruned: string[] }>(['prune', '--force']);
    expect(forced.pruned).toEqual(['local/me/app#9']);
  });

  it('events are listed by notify and cleared', async () => {
    await sb.ok(['start', 'local/me/app#4', 'quick one']);
    const { events } = await sb.json<{ events: { type: string; issueRef: string }[] }>(['notify']);
    expect(events.map((e) => e.type)).toEqual([
      'task_queued',
      'task_dequeued',
      'task_started',
      'task_completed',
    ]);
    expect(events.every((e) => e.issueRef === 'local/me/app#4')).toBe(true);
    expect(await sb.json(['notify', 'clear'])).toEqual({ cleared: 4 });
    expect(await sb.json(['notify'])).toEqual({ events: [] });
    const log = await sb.ok(['daemon', 'logs']);
    expect(log).toContain('event task_completed task=1 ref=local/me/app#4');
    // Sinks hear of the start while the agent runs, not when it has finished.
    expect(log.indexOf('event task_started task=1')).toBeLessThan(
      log.indexOf('task #1 attempt 1 ended'),
    );
  });

  it('KUGETSU_VERBOSITY=quiet prints only the outcome; verbose logs dispatch decisions', async () => {
    const quiet = await sb.cli(['start', 'local/me/app#40', 'quietly'], {
      env: { KUGETSU_VERBOSITY: 'quiet' },
    });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.trim().split('\n')).toEqual([
      'task #1 completed: branch kugetsu/local-me-app-40 · 1 file changed, 1 insertion(+) · pushed kugetsu/local-me-app-40',
    ]);
    await sb.ok(['daemon', 'restart'], { env: { KUGETSU_VERBOSITY: 'verbose' } });
    await sb.ok(['continue', 'local/me/app#40', 'loudly']);
    expect(await sb.ok(['daemon', 'logs'])).toMatch(/dispatch: claimed #2; 1\/3 slots held/);
  });
});
