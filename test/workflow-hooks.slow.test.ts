/**
 * Workspace hooks run as real processes in temp dirs: the script runs in the worktree with the
 * environment given, failures and timeouts are summarised in one line, and nothing a hook
 * starts — a background grandchild included — outlives it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HookResult, runHook } from '../core/workflow/hooks.js';
import type { HookName } from '../core/workflow/workflow.js';

/** Alive = `kill(pid, 0)` succeeds and the process is not a zombie awaiting its reaper. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // gone between the two checks
  }
}

const pidIn = (file: string): number => Number(readFileSync(file, 'utf8').trim());

describe('runHook', () => {
  let dir: string;
  let lines: string[];
  const env = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin' });
  const run = (
    name: HookName,
    script: string,
    options: Partial<Parameters<typeof runHook>[2]> = {},
  ): Promise<HookResult> =>
    runHook(name, script, {
      cwd: dir,
      env: env(),
      timeoutMs: 10_000,
      killGraceMs: 500,
      onLine: (line) => lines.push(line),
      ...options,
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kugetsu-hooks-'));
    lines = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the script in cwd, and reports success with its last line', async () => {
    const result = await run('after_create', 'echo made > made.txt\necho "in $(pwd)"');
    expect(result).toEqual({
      ok: true,
      exitCode: 0,
      timedOut: false,
      summary: `after_create hook succeeded: in ${dir}`,
    });
    expect(readFileSync(join(dir, 'made.txt'), 'utf8')).toBe('made\n');
    expect(lines).toEqual([`in ${dir}`]);
  });

  it('gives the hook exactly the env it is given, not kugetsu’s own', async () => {
    process.env.KUGETSU_HOOK_TEST_LEAK = 'leaked';
    try {
      const result = await run(
        'before_run',
        'printf "%s|%s" "$HOOK_VALUE" "${KUGETSU_HOOK_TEST_LEAK-unset}" > env.txt',
        { env: { ...env(), HOOK_VALUE: 'a b $c "d"' } },
      );
      expect(result.ok).toBe(true);
    } finally {
      delete process.env.KUGETSU_HOOK_TEST_LEAK;
    }
    expect(readFileSync(join(dir, 'env.txt'), 'utf8')).toBe('a b $c "d"|unset');
  });

  it('passes the script as one argument: nothing is appended, quoting survives', async () => {
    const script = `printf '%s\\n' "$0 args=$#" 'it'"'"'s; $HOME'`;
    const result = await run('after_run', script);
    expect(result.ok).toBe(true);
    // `sh -c SCRIPT x` would make $0 `x`: nothing follows the script.
    expect(lines).toEqual(['/bin/sh args=0', "it's; $HOME"]);
  });

  it('a failing hook: exit code, and its last output line (stdout or stderr) in the summary', async () => {
    const result = await run(
      'before_run',
      // Two pipes: the pauses make the order of arrival the order of writing.
      'echo "> npm run setup"; sleep 0.2\necho "npm ERR! missing script: setup" >&2; sleep 0.2\necho\nexit 3',
    );
    expect(result).toEqual({
      ok: false,
      exitCode: 3,
      timedOut: false,
      summary: 'before_run hook failed (exit 3): npm ERR! missing script: setup',
    });
    expect(lines).toEqual(['> npm run setup', 'npm ERR! missing script: setup', '']);
  });

  it('a hook that prints nothing and fails has a summary without a tail', async () => {
    const result = await run('before_remove', 'exit 1');
    expect(result.summary).toBe('before_remove hook failed (exit 1)');
    expect(result.ok).toBe(false);
  });

  it('a hook killed by a signal says so', async () => {
    const result = await run('after_run', 'echo bye; kill -9 $$');
    expect(result).toMatchObject({ ok: false, exitCode: null, timedOut: false });
    expect(result.summary).toBe('after_run hook was killed by SIGKILL: bye');
  });

  it('on timeout the whole group is killed, grandchildren that ignore SIGTERM included', async () => {
    const script = [
      'sleep 300 &',
      'echo $! > plain.pid',
      // exec keeps the ignored SIGTERM: only the SIGKILL after the grace period ends it.
      `sh -c 'trap "" TERM; exec sleep 300' &`,
      'echo $! > stubborn.pid',
      'echo $$ > leader.pid',
      'echo ready',
      'sleep 300',
    ].join('\n');
    const seenAlive: boolean[] = [];
    const started = Date.now();
    const result = await run('after_create', script, {
      timeoutMs: 800,
      killGraceMs: 300,
      onLine: (line) => {
        lines.push(line);
        if (line === 'ready') {
          for (const f of ['plain.pid', 'stubborn.pid', 'leader.pid']) {
            seenAlive.push(alive(pidIn(join(dir, f))));
          }
        }
      },
    });
    const elapsed = Date.now() - started;
    expect(seenAlive).toEqual([true, true, true]);
    expect(result).toEqual({
      ok: false,
      exitCode: null,
      timedOut: true,
      summary: 'after_create hook timed out after 800 ms: ready',
    });
    for (const f of ['plain.pid', 'stubborn.pid', 'leader.pid']) {
      expect(alive(pidIn(join(dir, f))), f).toBe(false);
    }
    // Resolved only after the SIGKILL the stubborn grandchild needed, and not much later.
    expect(elapsed).toBeGreaterThanOrEqual(800 + 300);
    expect(elapsed).toBeLessThan(8_000);
  });

  it('a background process left behind by a hook that exits is ended too', async () => {
    const result = await run('after_create', 'sleep 300 &\necho $! > bg.pid\necho started');
    expect(result.ok).toBe(true);
    expect(alive(pidIn(join(dir, 'bg.pid')))).toBe(false);
  });

  it('an abort signal stops the hook and its group', async () => {
    const controller = new AbortController();
    const result = await run('before_run', 'sleep 300 &\necho $! > bg.pid\necho waiting\nwait', {
      onLine: (line) => {
        if (line === 'waiting') controller.abort();
      },
      signal: controller.signal,
    });
    expect(result).toMatchObject({ ok: false, timedOut: false });
    expect(result.summary).toBe('before_run hook was stopped: waiting');
    expect(alive(pidIn(join(dir, 'bg.pid')))).toBe(false);
  });

  it('a hook that cannot start (missing cwd) says so', async () => {
    const result = await run('after_create', 'true', { cwd: join(dir, 'missing') });
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/^after_create hook could not start: .*ENOENT/);
  });

  it('long last lines are cut in the summary', async () => {
    writeFileSync(join(dir, 'long.txt'), `${'x'.repeat(500)}\n`);
    const result = await run('before_run', 'cat long.txt; exit 2');
    expect(result.summary).toBe(`before_run hook failed (exit 2): ${'x'.repeat(200)}…`);
    expect(lines).toEqual(['x'.repeat(500)]);
  });
});
