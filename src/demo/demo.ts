/**
 * `kugetsu demo`: the whole lifecycle in under a minute, offline, in a throwaway home. A local
 * repository, a cap of 2, several tasks delegated to the scripted agent; queue, start,
 * parallel runs, completion and notifications as they happen.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseConfig } from '../../core/config.js';
import { ensureDaemon, stopDaemon } from '../../core/daemon/daemon-control.js';
import { openHome } from '../../core/home-context.js';
import { addServer } from '../../core/operations/servers.js';
import { initHome } from '../../core/operations/setup.js';
import { delegate } from '../../core/operations/tasks.js';
import { daemonLauncher } from '../cli/home.js';
import type { Io } from '../cli/io.js';

const TASKS = [
  'add a greeting to the README',
  'write a CONTRIBUTING guide',
  'document the build steps',
  'list the open questions',
  'sketch the release checklist',
  'note the coding style',
];

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
  });
}

function makeRepo(root: string): void {
  mkdirSync(root, { recursive: true });
  git(root, ['init', '--quiet', '--initial-branch=main']);
  git(root, ['config', 'user.name', 'kugetsu demo']);
  git(root, ['config', 'user.email', 'demo@localhost']);
  writeFileSync(join(root, 'README.md'), '# app\n\nA small app for the kugetsu demo.\n');
  git(root, ['add', '.']);
  git(root, ['commit', '--quiet', '-m', 'initial commit']);
}

export async function runDemo(io: Io, options: { tasks: number; keep: boolean }): Promise<number> {
  const started = Date.now();
  const dir = mkdtempSync(join(parseConfig(process.env).tempDir ?? tmpdir(), 'kugetsu-demo-'));
  const gitRoot = join(dir, 'git');
  makeRepo(join(gitRoot, 'demo', 'app'));
  const agent = fileURLToPath(new URL('./scripted-agent.js', import.meta.url));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUGETSU_HOME: join(dir, 'home'),
    MAX_CONCURRENT_AGENTS: '2',
    KUGETSU_AGENT: 'command',
    KUGETSU_PM_AGENT: 'command',
    // The agent path is ours, not user input; quoted for paths with spaces.
    KUGETSU_AGENT_COMMAND: `'${process.execPath}' '${agent}'`,
    KUGETSU_DEFAULT_REPO: 'local/demo/app',
    KUGETSU_RETRY_BASE_SECONDS: '1',
  };
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  io.out(
    `kugetsu demo in ${dir}\n  a local repository demo/app, MAX_CONCURRENT_AGENTS=2, a scripted agent (no API key)\n`,
  );
  await initHome(env);
  const ctx = openHome(env);
  try {
    addServer(ctx, { name: 'local', url: pathToFileURL(gitRoot).href, kind: 'git' });
    const daemon = await ensureDaemon(ctx, daemonLauncher());
    io.out(`${elapsed()}  daemon started (pid ${daemon.pid})`);
    const ids: number[] = [];
    for (let n = 1; n <= options.tasks; n += 1) {
      const text = `#${n} ${TASKS[(n - 1) % TASKS.length] ?? 'tidy up'}`;
      const { task } = await delegate(ctx, text);
      ids.push(task.id);
      io.out(`${elapsed()}  delegate "${text}" → task #${task.id}`);
    }
    // Agents alive, as the events tell it: up on start, down when an attempt ends.
    let running = 0;
    let peak = 0;
    let cursor = 0;
    const ENDS = new Set(['task_completed', 'task_error', 'task_retrying', 'task_cancelled']);
    for (;;) {
      for (const event of ctx.store.listEvents({ unreadOnly: false, afterId: cursor })) {
        cursor = event.id;
        if (event.type === 'task_queued') continue;
        if (event.type === 'task_started') running += 1;
        if (ENDS.has(event.type)) running -= 1;
        peak = Math.max(peak, running);
        io.out(`${elapsed()}  ${event.type.padEnd(14)} ${event.message}   [agents: ${running}/2]`);
      }
      const open = ids.filter((id) => {
        const state = ctx.store.getTask(id)?.state;
        return state === 'pending' || state === 'running';
      });
      if (open.length === 0) break;
      await delay(100);
    }
    await stopDaemon(ctx);
    const branches = git(join(gitRoot, 'demo', 'app'), [
      'branch',
      '--list',
      '--format=  %(refname:short)',
      'kugetsu/*',
    ]);
    const done = ids.filter((id) => ctx.store.getTask(id)?.state === 'completed').length;
    io.out(
      `\n${elapsed()}  ${done}/${ids.length} tasks completed; at most ${peak} agents ran at once (cap 2).`,
    );
    io.out(`branches pushed to demo/app:\n${branches.trimEnd()}`);
    io.out(
      `events recorded: ${ctx.store.listEvents({ unreadOnly: true }).length} (\`kugetsu notify\` lists them)`,
    );
    io.out(`\nTry it on your own repository: see README.md, "Point it at a real repo".`);
    return done === ids.length ? 0 : 1;
  } finally {
    ctx.close();
    if (options.keep) io.out(`kept ${dir} (KUGETSU_HOME=${join(dir, 'home')})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
