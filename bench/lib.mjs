/**
 * Shared helpers for the benchmarks: a throwaway kugetsu world (temp dir, local `file://` git
 * server, initialised home), the built CLI as a child process, small statistics and output.
 * Plain ESM, node: builtins only; kugetsu itself is imported from ../dist.
 */
import { execFileSync, spawn } from 'node:child_process';
import console from 'node:console';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** The shipped executable (package.json's `bin`): the bundle that runs `list` itself. */
export const BIN = join(
  ROOT,
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.kugetsu,
);

/** Wall-clock milliseconds with sub-millisecond resolution (comparable with `date +%s%N`). */
export function wallMs() {
  return performance.timeOrigin + performance.now();
}

/** Reads a `date +%s%N` stamp file as wall-clock milliseconds, or null if not written yet. */
export function readStampMs(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
  if (!/^\d{19}$/.test(text)) return null; // not complete yet, or a date without %N
  return Number(BigInt(text) / 1000n) / 1000;
}

/** Polls `probe` until it returns non-null; throws after `timeoutMs`. */
export async function waitFor(probe, what, timeoutMs = 30_000, pollMs = 2) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(pollMs);
  }
}

// ---- statistics ----

/** Nearest-rank percentile of an unsorted array. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function fmt(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** `p50 x · p95 y · max z ms (n=N)` */
export function summary(values, unit = 'ms') {
  return `p50 ${fmt(percentile(values, 50))} · p95 ${fmt(percentile(values, 95))} · max ${fmt(Math.max(...values))} ${unit} (n=${values.length})`;
}

export function verdict(ok) {
  return ok ? 'PASS' : 'MISS';
}

export function heading(title) {
  console.log(`\n=== ${title} ===`);
}

export function line(label, value) {
  console.log(`${label.padEnd(58)} ${value}`);
}

export function note(text) {
  console.log(`  note: ${text}`);
}

/** Runs `fn` `runs` times after `warmups` unmeasured calls; returns the durations in ms. */
/** timeRuns for work that awaits. */
export async function timeRunsAsync(fn, runs, warmups = 2) {
  for (let i = 0; i < warmups; i += 1) await fn();
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

export function timeRuns(fn, runs, warmups = 2) {
  for (let i = 0; i < warmups; i += 1) fn();
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times;
}

// ---- git ----

/** Git env without system/global config: the same on every machine. */
export const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};

export function git(cwd, args, env = process.env) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...env, ...GIT_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// ---- the world ----

/** The process env minus any kugetsu setting of the caller's shell. */
function cleanBaseEnv() {
  const base = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('KUGETSU_') || k.startsWith('QUEUE_') || k.startsWith('TELEGRAM_')) continue;
    if (k === 'MAX_CONCURRENT_AGENTS' || k.startsWith('GIT_')) continue;
    base[k] = v;
  }
  return base;
}

const liveWorlds = new Set();

function cleanupAll() {
  for (const world of liveWorlds) world.cleanup();
}

let handlersInstalled = false;
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      cleanupAll();
      process.exit(130);
    });
  }
}

/**
 * A throwaway world: `<tmp>/git/me/app` (one commit on main), an initialised home with server
 * `local` = file://<tmp>/git, and an agent script written to `<tmp>/agent.sh`.
 *
 * @param {object} options
 * @param {string} options.agentScript  body of the agent shell script (`$STAMPS` is `<tmp>/t`)
 * @param {string} [options.agentCommand]  KUGETSU_AGENT_COMMAND; defaults to `<tmp>/agent.sh`
 * @param {number} [options.maxAgents]
 */
export function makeWorld({ agentScript = 'exit 0', agentCommand, maxAgents = 3 }) {
  installExitHandlers();
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'kugetsu-bench-')));
  const home = join(dir, 'home');
  const stamps = join(dir, 't');
  const repo = join(dir, 'git', 'me', 'app');
  mkdirSync(stamps, { recursive: true });
  mkdirSync(repo, { recursive: true });
  git(repo, ['init', '--quiet', '--initial-branch=main']);
  writeFileSync(join(repo, 'README.md'), '# app\n');
  git(repo, ['add', 'README.md']);
  git(repo, ['commit', '--quiet', '-m', 'init']);

  const agentPath = join(dir, 'agent.sh');
  writeFileSync(agentPath, `#!/bin/sh\nSTAMPS='${stamps}'\n${agentScript}\n`, { mode: 0o755 });

  const env = {
    ...cleanBaseEnv(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    KUGETSU_HOME: home,
    KUGETSU_AGENT: 'command',
    KUGETSU_AGENT_COMMAND: agentCommand ?? agentPath,
    KUGETSU_MIN_FREE_MEMORY_MB: '0',
    MAX_CONCURRENT_AGENTS: String(maxAgents),
    KUGETSU_DEFAULT_REPO: 'local/me/app',
  };

  const cliSync = (args) =>
    execFileSync(process.execPath, [CLI, ...args], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  /** Spawns the CLI; resolves with its exit code and output. */
  const cli = (args) =>
    new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.once('error', reject);
      child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
    });

  cliSync(['init']);
  cliSync(['server', 'add', 'local', `file://${join(dir, 'git')}`]);

  let cleaned = false;
  const world = {
    dir,
    home,
    repo,
    stamps,
    env,
    db: join(home, 'kugetsu.db'),
    socket: join(home, 'daemon.sock'),
    cliSync,
    cli,
    /** The session row enqueueTask wants for issue N of local/me/app. */
    sessionFor(n) {
      const key = `local-me-app-${n}`;
      return {
        issueRef: `local/me/app#${n}`,
        workspaceKey: key,
        serverName: 'local',
        repoPath: 'me/app',
        worktreePath: join(home, 'worktrees', key),
        branch: `kugetsu/${key}`,
        agent: 'command',
      };
    },
    startDaemon() {
      const out = JSON.parse(cliSync(['daemon', 'start', '--json']));
      return out.pid;
    },
    stopDaemon() {
      try {
        cliSync(['daemon', 'stop']);
      } catch {
        // Last resort: the pid file (never a broad kill).
        const pidFile = join(home, 'daemon.pid');
        if (existsSync(pidFile)) {
          const pid = Number(readFileSync(pidFile, 'utf8').trim());
          if (pid > 0) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      }
    },
    cleanup() {
      if (cleaned) return;
      cleaned = true;
      liveWorlds.delete(world);
      if (existsSync(join(home, 'kugetsu.db'))) world.stopDaemon();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  liveWorlds.add(world);
  return world;
}

/** The finished states of a task. */
/**
 * Fills a world's store with `count` sessions, each with one finished task, half of them
 * `left`: the default listing (used + left) then shows half, `--all` shows every one.
 */
export async function seedSessions(world, count) {
  const { openSqliteStore } = await import('../dist/core/store/sqlite/sqlite-store.js');
  const store = openSqliteStore(world.db);
  const base = Date.now() - count * 1000;
  for (let n = 1; n <= count; n += 1) {
    const task = await store.tasks.enqueue(
      {
        kind: 'dev',
        mode: 'start',
        issueRef: `local/me/app#${n}`,
        message: `work on issue ${n}`,
        agent: 'command',
        maxAttempts: 1,
      },
      world.sessionFor(n),
      base + n * 1000,
    );
    // A finished history, as a real store would hold.
    store.db.run(
      `UPDATE tasks SET state = 'completed', attempts = 1, started_at = ?, finished_at = ?, result = 'done' WHERE id = ?`,
      base + n * 1000 + 10,
      base + n * 1000 + 500,
      task.id,
    );
  }
  store.db.run(
    `UPDATE sessions SET state = 'left' WHERE CAST(substr(issue_ref, 14) AS INTEGER) % 2 = 0`,
  );
  const counts = store.db.all('SELECT state, COUNT(*) AS n FROM sessions GROUP BY state');
  await store.close();
  return counts;
}

export function isFinished(state) {
  return state !== 'pending' && state !== 'running';
}

/** Resolves once the task has finished (polling the store in-process); returns the task. */
export function waitForTask(store, taskId, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const task = await store.tasks.get(taskId);
      return task !== null && isFinished(task.state) ? task : null;
    },
    `task #${taskId} to finish`,
    timeoutMs,
  );
}

/** VmRSS and VmHWM of a process, in MB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
    return m === null ? NaN : Number(m[1]);
  };
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

export { delay };
