/**
 * A throwaway kugetsu world for one test: a temp dir with a home, a local git server
 * (`file://`) holding real repositories, and the built CLI run as a real child process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import type { Task } from '../../core/domain.js';
import { openSqliteStore, type SqliteStore } from '../../core/store/sqlite/sqlite-store.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** The shipped executable, package.json's `bin` (the bundle of src/cli/bin.ts). */
export const BIN = join(
  ROOT,
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { kugetsu: string } }).bin
    .kugetsu,
);
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Git with a fixed identity, no gc, no system or global config: the same on every machine. */
export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@localhost',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@localhost',
    },
  });
}

export class Sandbox {
  readonly dir: string;
  readonly home: string;
  readonly gitRoot: string;
  readonly env: Record<string, string>;
  private readonly children = new Set<ChildProcess>();
  private openStore: SqliteStore | null = null;

  constructor(settings: Record<string, string> = {}) {
    this.dir = realpathSync(mkdtempSync(join(tmpdir(), 'kgt-')));
    this.home = join(this.dir, 'home');
    this.gitRoot = join(this.dir, 'git');
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      // The test's own kugetsu settings must not leak in from the developer's shell.
      if (
        v !== undefined &&
        !k.startsWith('KUGETSU_') &&
        !k.startsWith('TELEGRAM_') &&
        !k.startsWith('QUEUE_') &&
        k !== 'MAX_CONCURRENT_AGENTS'
      )
        base[k] = v;
    }
    this.env = {
      ...base,
      KUGETSU_HOME: this.home,
      KUGETSU_AGENT: 'command',
      KUGETSU_PM_AGENT: 'command',
      KUGETSU_MIN_FREE_MEMORY_MB: '0',
      KUGETSU_RETRY_BASE_SECONDS: '0.2',
      KUGETSU_KILL_GRACE_SECONDS: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      ...settings,
    };
  }

  /** A repository `owner/name` on the local server, with one commit on `main`. */
  makeRepo(owner = 'me', name = 'app'): string {
    const dir = join(this.gitRoot, owner, name);
    mkdirSync(dir, { recursive: true });
    git(dir, ['init', '--quiet', '--initial-branch=main']);
    writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
    git(dir, ['add', '.']);
    git(dir, ['commit', '--quiet', '-m', 'initial']);
    return dir;
  }

  get serverUrl(): string {
    return pathToFileURL(this.gitRoot).href;
  }

  /** init + a `local` file:// server + one repo; refs are `local/me/app#N`. */
  async setup(): Promise<void> {
    this.makeRepo();
    await this.ok(['init']);
    await this.ok(['server', 'add', 'local', this.serverUrl]);
  }

  cli(
    args: string[],
    options: {
      env?: Record<string, string>;
      input?: string;
      timeoutMs?: number;
      /** The script to run: the ES module CLI unless a test means the shipped bin. */
      entry?: string;
    } = {},
  ): Promise<CliResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [options.entry ?? CLI, ...args], {
        env: { ...this.env, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`kugetsu ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`),
        );
      }, options.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** Runs the CLI and fails the test unless it exits 0. */
  async ok(
    args: string[],
    options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
  ): Promise<string> {
    const result = await this.cli(args, options);
    if (result.code !== 0)
      throw new Error(
        `kugetsu ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
      );
    return result.stdout;
  }

  async json<T>(args: string[], options: { env?: Record<string, string> } = {}): Promise<T> {
    return JSON.parse(await this.ok([...args, '--json'], options)) as T;
  }

  /** Polls until `check` returns a value, or fails after `timeoutMs`. */
  async until<T>(
    what: string,
    check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(50);
    }
  }

  /**
   * Everything kugetsu keeps in the home, as text: every row of every table of the database,
   * and every settings and env file. Two equal snapshots mean nothing was written.
   */
  stateSnapshot(): string {
    const db = new Database(join(this.home, 'kugetsu.db'), { readonly: true });
    try {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all() as { name: string }[];
      const rows = tables.map(({ name }) => ({
        name,
        rows: db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all(),
      }));
      const files = ['config.env', ...readdirSync(join(this.home, 'env')).map((f) => `env/${f}`)];
      return JSON.stringify({
        rows,
        files: files.map((f) => [f, readFileSync(join(this.home, f), 'utf8')]),
      });
    } finally {
      db.close();
    }
  }

  /** Queues with `--detach` and returns the task's id. */
  async startDetached(args: string[]): Promise<number> {
    return (await this.json<{ task: Task }>([...args, '--detach'])).task.id;
  }

  /**
   * The home's store, opened in this process. For waiting: a poll that ran the CLI would start
   * a node process every few milliseconds and take the CPU from the agents under test.
   */
  store(): SqliteStore {
    this.openStore ??= openSqliteStore(join(this.home, 'kugetsu.db'));
    return this.openStore;
  }

  /** Every task, as `queue list --all --json` has them. */
  tasks(): Promise<Task[]> {
    return this.store().tasks.list({});
  }

  /** Waits until the task left pending and running, and returns it. */
  finished(id: number, timeoutMs = 90_000): Promise<Task> {
    return this.until(
      `task #${id} to finish`,
      async () => {
        const task = await this.store().tasks.get(id);
        return task !== null && task.state !== 'pending' && task.state !== 'running' && task;
      },
      timeoutMs,
    );
  }

  /**
   * Live processes of one of this sandbox's tasks: their environment names the task and this
   * home (suites running at the same time have task ids of their own).
   */
  taskProcesses(taskId: number): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        if (
          environ.includes(`KUGETSU_TASK_ID=${taskId}`) &&
          environ.includes(`KUGETSU_HOME=${this.home}`) &&
          running(Number(entry))
        )
          pids.push(Number(entry));
      } catch {
        // gone already, or not ours to read
      }
    }
    return pids;
  }

  /** The worktree of a session, as the store has it. */
  async worktreeOf(issueRef: string): Promise<string> {
    const session = await this.store().sessions.get(issueRef);
    if (session === null) throw new Error(`no session ${issueRef}`);
    return session.worktreePath;
  }

  /** Whether `pid` runs with this sandbox's KUGETSU_HOME. */
  private ownsProcess(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .includes(`KUGETSU_HOME=${this.home}`);
    } catch {
      return false;
    }
  }

  async cleanup(): Promise<void> {
    await this.openStore?.close();
    this.openStore = null;
    const daemonPid = Number(
      (() => {
        try {
          return readFileSync(join(this.home, 'daemon.pid'), 'utf8');
        } catch {
          return '';
        }
      })(),
    );
    // The pid file may be stale, so only a process whose environment names this home is ours.
    // With none, there is nothing to stop, and no CLI to start for it (a suite has hundreds).
    const ours = (): boolean => daemonPid > 0 && running(daemonPid) && this.ownsProcess(daemonPid);
    const stopped = ours()
      ? await this.cli(['daemon', 'stop'], { timeoutMs: 30_000 }).catch(() => null)
      : null;
    // A daemon that outlived its stop would live on with its home deleted: end it.
    if (ours()) {
      process.stderr.write(
        `sandbox: daemon ${daemonPid} still ran after \`daemon stop\` (${stopped?.stderr.trim() ?? 'timed out'}); killing it\n`,
      );
      process.kill(daemonPid, 'SIGKILL');
    }
    for (const child of this.children) child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A process is running if it exists and is not a zombie waiting to be reaped. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
